import test from "ava";
import { diagnose, type Watch, watchPump } from "../../functions/monitoring/detection.ts";
import type { StepEvent } from "../../functions/steps.ts";
import { sagaEvent } from "../support/saga-events.ts";

const nominal = { rotation: 1500, current: 40, pressure: 600, flowRate: 80, temperature: 70 };
const registered = sagaEvent("pump.registered", "p1", {
  assetId: "p1",
  type: "ESP",
  os: "Raspbian",
  version: "0.0.1",
  ipAddress: "172.16.0.1",
  antivirus: "v2.3",
  site: "north",
  latitude: 45,
  longitude: 7,
  creationDate: "2026-11-23T08:00:00Z",
  nominal,
});
let second = 0;
const reading = (overrides: Partial<typeof nominal> = {}) =>
  sagaEvent("pump.metric.reported", "p1", {
    assetId: "p1",
    ...nominal,
    ...overrides,
    timestamp: new Date(Date.parse("2026-11-23T09:00:00Z") + 1000 * ++second).toISOString(),
  });

function watch(events: StepEvent<"monitoring.detect">[]) {
  let state: Watch | undefined;
  const requests: Record<string, unknown>[] = [];
  for (const event of events) {
    const result = watchPump(event, state);
    state = result.state;
    requests.push(...result.emit.map((e) => e.data as Record<string, unknown>));
  }
  return { state, requests };
}

test("each problem is recognised from three agreeing readings", (t) => {
  const cases = {
    overheating: { temperature: 100 },
    "pressure-drop": { pressure: 200, flowRate: 30 },
    overcurrent: { current: 70 },
    stalled: { rotation: 0, current: 60 },
  } as const;
  for (const [problem, overrides] of Object.entries(cases)) {
    const window = [1, 2, 3].map(() => ({ ...nominal, ...overrides, timestamp: "2026-11-23T09:00:00Z" }));
    t.is(diagnose(window, nominal), problem as never, problem);
  }
  const swinging = [300, 900, 300, 900].map((pressure) => ({ ...nominal, pressure, timestamp: "t" }));
  t.is(diagnose(swinging, nominal), "cavitation");
  t.is(
    diagnose(
      [1, 2, 3].map(() => ({ ...nominal, timestamp: "t" })),
      nominal,
    ),
    undefined,
  );
});

test("two odd readings raise nothing; an incident raises exactly one request however long it lasts", (t) => {
  const hot = () => reading({ temperature: 110 });
  const { requests } = watch([registered, reading(), hot(), hot(), reading(), ...Array.from({ length: 10 }, hot)]);
  t.is(requests.length, 1);
  t.like(requests[0], {
    assetId: "p1",
    problem: "overheating",
    partType: "cooling-fan",
    skill: "mechanical",
    site: "north",
  });
});

test("an incident closes after five normal readings; a new fault is a new incident with a new id", (t) => {
  const hot = () => reading({ temperature: 110 });
  const events = [registered, hot(), hot(), hot(), ...Array.from({ length: 5 }, () => reading()), hot(), hot(), hot()];
  const { requests, state } = watch(events);
  t.deepEqual(
    requests.map((r) => r.incidentId),
    ["p1-incident-1", "p1-incident-2"],
  );
  t.is(state?.incidents, 2);
});

test("readings that arrive before the registration wait for it", (t) => {
  const hot = () => reading({ temperature: 110 });
  const { requests } = watch([hot(), hot(), hot(), registered]);
  t.is(requests.length, 1);
});
