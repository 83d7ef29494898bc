import test from "ava";
import { idempotencyKey } from "../../lib/events/envelope.ts";
import { foldEntity, type PendingEvent } from "../../lib/step/apply.ts";
import type { EntityDoc } from "../../lib/step/documents.ts";
import { appliedKey } from "../../lib/step/documents.ts";
import { DEFAULT_LIMITS } from "../../lib/step/index.ts";
import { type Tally, tallyAdded, tallySpec } from "../support/step-fixture.ts";

const names = { database: "db", in: "in", out: "out", retry: "retry", deadLetter: "dlq" };
const spec = tallySpec(names);
const now = 1_700_000_000_000;
const retention = { windowMs: 60_000, maxKeysPerEntity: 3 };
const pending = (amount: number, index: number): PendingEvent => {
  const event = tallyAdded("c", amount);
  return { index, event, key: idempotencyKey(event), attempt: 1 };
};
const fold = (doc: EntityDoc<Tally> | undefined, events: PendingEvent[], at = now) =>
  foldEntity(spec, "c", doc, events, { now: at, limits: DEFAULT_LIMITS, retention });

test("events are applied in order, each emitting with the input as cause and a fresh outbox timestamp", (t) => {
  const result = fold(undefined, [pending(1, 0), pending(2, 1)]);
  t.deepEqual(result.doc?.state, { total: 3, count: 2 });
  t.is(result.doc?.version, 2);
  t.is(result.doc?.outboxSince, now);
  t.deepEqual(
    result.added.map((e) => (e.event.data as Tally).total),
    [1, 3],
  );
  t.is(result.added[0]?.key, "c");
});

test("a key already applied is a duplicate, and a fold with only duplicates writes nothing", (t) => {
  const first = fold(undefined, [pending(1, 0)]);
  const again = fold(first.doc, [{ ...pending(1, 0), ...{ key: first.doc?.applied[0]?.[0] ?? "" } }]);
  t.is(again.outcomes.get(0)?.status, "applied", "a digest is not a key: a different key is new");
  const e = pending(5, 0);
  const once = fold(undefined, [e]);
  const twice = fold(once.doc, [e]);
  t.is(twice.doc, undefined);
  t.deepEqual(twice.outcomes.get(0), { status: "duplicate" });
});

test("a failing handler is tried a bounded number of times, then dead-lettered, and the others still apply", (t) => {
  const result = fold(undefined, [pending(13, 0), pending(2, 1)]);
  t.deepEqual(result.outcomes.get(0), {
    status: "dead-letter",
    reason: "handler-failed",
    message: "13 is unlucky",
    attempts: 3,
  });
  t.deepEqual(result.doc?.state, { total: 2, count: 1 });
});

test("an emitted event that breaks its schema dead-letters the input and changes nothing", (t) => {
  const bad = tallySpec(names, {
    handle: () => ({ state: { total: 0, count: 0 }, emit: [{ type: "tally.changed", data: { total: "x" } }] }),
  });
  const result = foldEntity(bad, "c", undefined, [pending(1, 0)], { now, limits: DEFAULT_LIMITS, retention });
  t.is(result.outcomes.get(0)?.status, "dead-letter");
  t.is(result.doc, undefined);
});

test("applied keys are kept for the retention window and at most maxKeysPerEntity of them", (t) => {
  const events = [1, 2, 3, 4].map((amount, index) => pending(amount, index));
  const result = fold(undefined, events);
  t.is(result.doc?.applied.length, 3);
  t.false(
    result.doc?.applied.some(([entry]) => entry.startsWith(`${appliedKey(events[0]?.key ?? "")}.`)),
    "the oldest key went first",
  );
  t.true(result.doc?.applied.some(([entry]) => entry.startsWith(`${appliedKey(events[3]?.key ?? "")}.`)));
  const later = fold(result.doc, [pending(9, 0)], now + 60_001);
  t.is(later.doc?.applied.length, 1, "keys older than the window are pruned");
});

test("a key applied before with another payload is a dead letter that names the reused id, not a duplicate", (t) => {
  const e = pending(5, 0);
  const once = fold(undefined, [e]);
  const reused = { ...e, event: { ...e.event, data: { amount: 6 } } };
  const outcome = fold(once.doc, [reused]).outcomes.get(0);
  t.like(outcome, { status: "dead-letter", reason: "payload-mismatch" });
  t.regex(
    (outcome as { message: string }).message,
    new RegExp(`event ${e.event.id} from .* its producer reused the id`),
  );
  const inOneBatch = fold(undefined, [e, { ...reused, index: 1 }]);
  t.like(inOneBatch.outcomes.get(1), { status: "dead-letter", reason: "payload-mismatch" });
  t.deepEqual(inOneBatch.doc?.state, { total: 5, count: 1 });
});

test("applied keys kept without a payload digest (before 0.3) are duplicates, whatever the payload", (t) => {
  const e = pending(5, 0);
  const once = fold(undefined, [e]);
  const old = {
    ...once.doc,
    applied: once.doc?.applied.map(([entry, at]) => [entry.split(".")[0], at]),
  } as never;
  t.deepEqual(fold(old, [{ ...e, event: { ...e.event, data: { amount: 6 } } }]).outcomes.get(0), {
    status: "duplicate",
  });
});

test("applied keys stored as a map by an earlier version are still recognised", (t) => {
  const e = pending(5, 0);
  const once = fold(undefined, [e]);
  const legacy = { ...once.doc, applied: Object.fromEntries(once.doc?.applied ?? []) } as never;
  t.deepEqual(fold(legacy, [e]).outcomes.get(0), { status: "duplicate" });
});
