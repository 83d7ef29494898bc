// The local OpenWhisk keeps its newest activation records within a count and a byte budget.
import test from "ava";
import { type Activation, ActivationStore, newActivationId } from "../../local/activations.ts";

const record = (resultBytes: number, start: number): Activation => ({
  namespace: "guest",
  name: "dashboard",
  version: "0.0.1",
  subject: "guest",
  activationId: newActivationId(),
  start,
  end: start,
  duration: 0,
  response: { statusCode: 0, result: { body: "x".repeat(resultBytes) } },
  logs: [],
  annotations: [],
  publish: false,
});

test("records of 200 KB are kept within the byte budget, newest first; the oldest are forgotten", (t) => {
  const store = new ActivationStore(20_000, 1024 * 1024);
  const added = Array.from({ length: 20 }, (_, i) => record(200 * 1024, i));
  for (const a of added) store.add(a);
  const kept = store.list({ namespace: "guest", skip: 0, limit: 100 });
  t.is(kept.length, 5, "5 records of 200 KB fit in 1 MB");
  t.deepEqual(
    kept.map((a) => a.start),
    [19, 18, 17, 16, 15],
  );
  t.is(store.get(added[0]?.activationId ?? ""), undefined);
});

test("small records are kept up to the count", (t) => {
  const store = new ActivationStore(50);
  for (let i = 0; i < 60; i += 1) store.add(record(10, i));
  t.is(store.list({ namespace: "guest", skip: 0, limit: 100 }).length, 50);
});
