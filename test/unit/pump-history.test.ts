import test from "ava";
import { applyToPump, HISTORY, type Pump } from "../../functions/assets/registry.ts";
import { sagaEvent } from "../support/saga-events.ts";

const nominal = { rotation: 1500, current: 40, pressure: 600, flowRate: 80, temperature: 70 };
const reading = (second: number) =>
  sagaEvent("pump.metric.reported", "p1", {
    assetId: "p1",
    ...nominal,
    temperature: 60 + second,
    timestamp: new Date(Date.parse("2026-11-23T09:00:00Z") + 1000 * second).toISOString(),
  });

test("a pump keeps its newest readings by timestamp, oldest first, however they arrive", (t) => {
  const seconds = Array.from({ length: HISTORY + 20 }, (_, i) => i);
  // Out of order, as batches of two topics deliver them.
  const shuffled = [...seconds].sort((a, b) => ((a * 7919) % 97) - ((b * 7919) % 97));
  let pump: Pump | undefined;
  for (const second of shuffled) pump = applyToPump(reading(second), pump).state;
  t.is(pump?.readings, seconds.length);
  t.deepEqual(
    pump?.history.map((r) => r.temperature),
    seconds.slice(-HISTORY).map((s) => 60 + s),
  );
  t.is(pump?.latest?.temperature, 60 + seconds.length - 1);
});

test("a pump stored before histories were kept gains one", (t) => {
  const old = { assetId: "p1", readings: 3 } as Pump;
  const { state } = applyToPump(reading(1), old);
  t.is(state.history.length, 1);
  t.is(state.readings, 4);
});
