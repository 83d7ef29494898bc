// Every step of the system, on both feeds (OpenWhisk's, where the batch is landed first, and the lossless one), fed
// one batch of good events mixed with a corpus of bad records: not JSON, JSON that is not a CloudEvent, missing and
// wrong-typed fields, a number as a string, NaN, a negative quantity, an unknown type, a value over 512 KB, an id
// and a subject over the limits, a retry envelope forged on the input topic, an id reused with other content.
// Every good event is applied once; every bad record becomes exactly one dead letter with its reason and a message;
// the activation answers (no error) whatever its neighbours were. Real Kafka, real store, the steps' own handlers.
import test from "ava";
import { registrySpec } from "../../functions/assets/registry-step.ts";
import { rosterSpec } from "../../functions/crews/roster-step.ts";
import { detectSpec } from "../../functions/monitoring/detect-step.ts";
import { stockSpec } from "../../functions/parts/stock-step.ts";
import { ROUTES } from "../../functions/topology.ts";
import { sagaSpec } from "../../functions/workorders/saga-step.ts";
import type { CloudEvent } from "../../lib/events/envelope.ts";
import { defineEntityStep, defineStreamStep } from "../../lib/step/index.ts";
import { LOSSLESS_FEED, untyped } from "../../lib/step/spec.ts";
import type { DeadLetter } from "../../lib/step/tools.ts";
import { sagaEvent } from "../support/saga-events.ts";
import { type StepWorld, stepWorld, type TestNames } from "../support/step-fixture.ts";
import { readTopic } from "../support/topic-reader.ts";

type Event = CloudEvent<string, unknown>;
type Data = Record<string, unknown>;

interface Case {
  step: string;
  build: (names: TestNames) => {
    run: (params: Record<string, unknown>, io: ReturnType<StepWorld["io"]>) => Promise<unknown>;
  };
  /** Good events, in the order they apply. */
  good: () => Event[];
  /** Its handled data made wrong: a field removed, one of the wrong type, a number as text, a negative quantity. */
  broken: (good: Event) => { what: string; data: Data }[];
  /** The first good event's data changed into other valid data: the same id with other content. */
  other: (good: Event) => Data;
}

/** The step's spec on the test's own database and topics: everything it emits goes to the test's output topic. */
function onWorld<S extends { database: string }>(spec: S, names: TestNames): S {
  return {
    ...spec,
    database: names.database,
    routes: Object.fromEntries(Object.keys(ROUTES).map((type) => [type, names.out])),
    topics: { retry: names.retry, deadLetter: names.deadLetter },
  };
}

const now = new Date();
const iso = (offsetMs = 0) => new Date(now.getTime() + offsetMs).toISOString();
const nominal = { rotation: 1450, current: 12, pressure: 4.2, flowRate: 30, temperature: 55 };
const registered = (assetId: string) =>
  sagaEvent("pump.registered", assetId, {
    assetId,
    type: "centrifugal",
    os: "rtos",
    version: "1.2",
    ipAddress: "10.0.0.7",
    antivirus: "none",
    site: "site-poison",
    latitude: 48.1,
    longitude: 11.6,
    creationDate: iso(),
    nominal,
  });
const reported = (assetId: string) =>
  sagaEvent("pump.metric.reported", assetId, { assetId, ...nominal, timestamp: iso() });
const pumpBroken = (): { what: string; data: Data }[] => [];
const without = (data: unknown, field: string) => {
  const { [field]: _, ...rest } = data as Data;
  return rest;
};

const CASES: Case[] = [
  {
    step: "assets.registry",
    build: (names) => defineEntityStep(untyped(onWorld(registrySpec, names))),
    good: () => [registered("pump-p1"), reported("pump-p1"), reported("pump-p2")],
    broken: pumpBroken,
    other: (good) => ({ ...(good.data as Data), os: "linux" }),
  },
  {
    step: "monitoring.detect",
    build: (names) => defineEntityStep(untyped(onWorld(detectSpec, names))),
    good: () => [registered("pump-m1"), reported("pump-m1")],
    broken: pumpBroken,
    other: (good) => ({ ...(good.data as Data), site: "site-elsewhere" }),
  },
  {
    step: "workorders.saga",
    build: (names) => defineStreamStep(untyped(onWorld(sagaSpec, names))),
    good: () =>
      ["inc-w1", "inc-w2"].map((incidentId) =>
        sagaEvent("maintenance.requested", `wo-${incidentId}`, {
          incidentId,
          assetId: "pump-w",
          site: "site-poison",
          problem: "stalled",
          partType: "bearing",
          skill: "mechanical",
          requestedBy: "monitoring",
          detectedAt: iso(),
        }),
      ),
    broken: (good) => [{ what: "a time as a number", data: { ...(good.data as Data), detectedAt: now.getTime() } }],
    other: (good) => ({ ...(good.data as Data), problem: "overheating" }),
  },
  {
    step: "parts.stock",
    build: (names) => defineEntityStep(untyped(onWorld(stockSpec, names))),
    good: () => [
      sagaEvent("parts.restocked", "bearing", {
        partType: "bearing",
        quantity: 2,
        deliveryId: "d-poison",
        deliveredBy: "schedule",
      }),
      sagaEvent("workorder.opened", "wo-s1", {
        workOrderId: "wo-s1",
        incidentId: "s1",
        assetId: "pump-s",
        site: "site-poison",
        partType: "bearing",
        skill: "mechanical",
        deadline: iso(3_600_000),
      }),
    ],
    broken: (good) => [
      { what: "a quantity as text", data: { ...(good.data as Data), quantity: "2" } },
      { what: "a negative quantity", data: { ...(good.data as Data), quantity: -3 } },
      { what: "a fractional quantity", data: { ...(good.data as Data), quantity: 1.5 } },
    ],
    other: (good) => ({ ...(good.data as Data), quantity: 5 }),
  },
  {
    step: "crews.roster",
    build: (names) => defineEntityStep(untyped(onWorld(rosterSpec, names))),
    good: () => [
      sagaEvent("part.reserved", "wo-c1", {
        workOrderId: "wo-c1",
        partType: "bearing",
        site: "site-poison",
        skill: "mechanical",
        deadline: iso(3 * 86_400_000),
      }),
    ],
    broken: (good) => [{ what: "a deadline as a number", data: { ...(good.data as Data), deadline: 7 } }],
    other: (good) => ({ ...(good.data as Data), skill: "electrical" }),
  },
];

// The pump steps' numbers: a rotation as text and a negative current.
for (const name of ["assets.registry", "monitoring.detect"]) {
  const c = CASES.find((k) => k.step === name) as Case;
  c.broken = (good) => {
    const metric = c.good().find((e) => e.type === "pump.metric.reported") as Event;
    return [
      { what: "a rotation as text", data: { ...(metric.data as Data), rotation: "1450" } },
      { what: "a negative current", data: { ...(metric.data as Data), current: -2 } },
      { what: "a site as a number", data: { ...(good.data as Data), site: 4 } },
    ];
  };
}

interface Bad {
  what: string;
  /** The record's value exactly as produced. */
  value: string;
  reason: DeadLetter["reason"];
}

let serial = 0;
const fresh = (event: Event, changes: Partial<Event> = {}): Event => ({
  ...event,
  id: `poison-${++serial}-${event.id}`,
  ...changes,
});

function corpus(c: Case, step: string): { good: Event[]; bad: Bad[] } {
  const good = c.good();
  const first = good[0] as Event;
  const text = (value: unknown) => JSON.stringify(value);
  const firstField = Object.keys(first.data as Data)[0] as string;
  const bad: Bad[] = [
    { what: "not JSON", value: `${text(first).slice(0, 40)}`, reason: "invalid-json" },
    { what: "JSON that is not a CloudEvent", value: text({ hello: "world", n: 1 }), reason: "envelope" },
    { what: "an event without its id", value: text(without(fresh(first), "id")), reason: "envelope" },
    {
      what: `data without ${firstField}`,
      value: text(fresh(first, { data: without(first.data, firstField) })),
      reason: "schema",
    },
    ...c.broken(first).map(({ what, data }) => ({
      what,
      value: text(fresh(good.find((e) => Object.keys(data).every((k) => k in (e.data as Data))) ?? first, { data })),
      reason: "schema" as const,
    })),
    {
      what: "NaN where a number goes",
      value: text(fresh(first)).replace('"data":{', '"data":{"reading":NaN,'),
      reason: "invalid-json",
    },
    { what: "an unknown event type", value: text(fresh(first, { type: "pump.exploded" })), reason: "unknown-type" },
    {
      what: "a value over 512 KB",
      value: text({ ...fresh(first), padding: "p".repeat(600 * 1024) }),
      reason: "oversized",
    },
    { what: "an id over the limits", value: text(fresh(first, { id: "i".repeat(10_000) })), reason: "envelope" },
    {
      what: "a subject over the limits",
      value: text(fresh(first, { subject: "s".repeat(2_000) })),
      reason: "envelope",
    },
    {
      what: "a retry envelope forged on the input topic",
      value: text({
        stepretry: 1,
        step,
        attempt: 99,
        reason: "forged",
        notBefore: Date.now() + 3_600_000,
        value: fresh(first),
      }),
      reason: "envelope",
    },
    {
      what: "an id reused with other content",
      value: text({ ...first, data: c.other(first) }),
      reason: "payload-mismatch",
    },
  ];
  return { good, bad };
}

type Answer = { error?: unknown; counts: Record<string, number> };

for (const feed of ["OpenWhisk's feed (landed)", "the lossless feed"] as const) {
  for (const c of CASES) {
    test(`${c.step} on ${feed}: every good event applied once, every bad record one dead letter with its reason`, async (t) => {
      t.timeout(120_000);
      const world = await stepWorld(t);
      const step = c.build(world.names);
      const { good, bad } = corpus(c, c.step);
      // Good and bad interleaved; the reused id comes after its original.
      const values: { value: string; bad?: Bad }[] = [];
      const queue = [...bad];
      for (const event of good) {
        values.push({ value: JSON.stringify(event) });
        for (const b of queue.splice(0, Math.ceil(bad.length / good.length))) values.push({ value: b.value, bad: b });
      }
      for (const b of queue) values.push({ value: b.value, bad: b });
      const params = {
        messages: values.map(({ value }, offset) => ({
          topic: world.names.in,
          partition: 0,
          offset,
          key: null,
          value,
        })),
        ...(feed === "the lossless feed" ? { kafka_feed: LOSSLESS_FEED } : {}),
      };
      const answer = (await step.run(params, world.io())) as Answer;
      t.is(answer.error, undefined, "the activation answers whatever its neighbours were");
      t.is(answer.counts.applied, good.length, "every good event is applied");
      t.is(answer.counts["dead-lettered"], bad.length, "every bad record is dead-lettered");

      const letters = (await readTopic(world.names.deadLetter, { atLeast: bad.length, quietMs: 1_000 })).map(
        (record) => JSON.parse(record.value) as DeadLetter,
      );
      const byOffset = new Map<number, DeadLetter[]>();
      for (const letter of letters) {
        const offset = Number((letter.origin as { offset: string }).offset);
        byOffset.set(offset, [...(byOffset.get(offset) ?? []), letter]);
      }
      for (const [offset, { bad: b }] of values.entries()) {
        const got = byOffset.get(offset) ?? [];
        if (!b) {
          t.deepEqual(got, [], `good event at offset ${offset} has no letter`);
          continue;
        }
        t.is(got.length, 1, `${b.what}: exactly one dead letter`);
        t.is(got[0]?.reason, b.reason, `${b.what}: ${got[0]?.message}`);
        t.true((got[0]?.message ?? "").length > 10, `${b.what}: the letter says why`);
        t.is(got[0]?.step, c.step);
      }
      t.is(letters.length, bad.length);

      // Applied once: a second delivery of the good events is all duplicates.
      const again = (await step.run(
        {
          messages: good.map((event, i) => ({
            topic: world.names.in,
            partition: 1,
            offset: i,
            key: null,
            value: JSON.stringify(event),
          })),
          ...(feed === "the lossless feed" ? { kafka_feed: LOSSLESS_FEED } : {}),
        },
        world.io(),
      )) as Answer;
      t.is(again.counts.duplicate, good.length);
      t.is(again.counts.applied ?? 0, 0);
    });
  }
}
