import test from "ava";
import { canonicalJson, decide, hashPayload, type IdempotencyRecord } from "../../lib/idempotency/decide.ts";

const now = 1_700_000_000_000; // epoch ms
const hash = hashPayload({ a: 1 });
const record = (overrides: Partial<IdempotencyRecord>): IdempotencyRecord => ({
  status: "COMPLETED",
  payloadHash: hash,
  inProgressExpiresAt: now,
  expiresAt: now + 86_400_000,
  result: { ok: 1 },
  ...overrides,
});
const ask = (at: number, payloadHash = hash) => ({ now: at, payloadHash, deadline: at + 60_000 });

test("no record, or an expired one, is claimed", (t) => {
  t.deepEqual(decide(undefined, ask(now)), { kind: "claim" });
  t.deepEqual(decide(record({ expiresAt: now - 1 }), ask(now)), { kind: "claim" });
});

test("a completed record answers duplicates with its result, and refuses another payload", (t) => {
  t.deepEqual(decide(record({}), ask(now)), { kind: "duplicate", result: { ok: 1 } });
  t.deepEqual(decide(record({}), ask(now, hashPayload({ a: 2 }))), { kind: "payload-mismatch" });
});

test("an in-progress lock lives until its holder's deadline, in milliseconds, and is taken over after it", (t) => {
  // A holder whose deadline is 30 s away: a units mix-up (seconds vs ms) would expire it at once or never.
  const lock = record({ status: "INPROGRESS", inProgressExpiresAt: now + 30_000 });
  t.deepEqual(decide(lock, ask(now + 29_000)), { kind: "in-progress", retryAfterMs: 1_001 });
  t.deepEqual(decide(lock, ask(now + 30_001)), { kind: "takeover" });
});

test("the payload hash ignores key order and undefined fields but not values", (t) => {
  t.is(hashPayload({ a: 1, b: { c: 2, d: [1, 2] } }), hashPayload({ b: { d: [1, 2], c: 2 }, a: 1, e: undefined }));
  t.not(hashPayload({ a: 1 }), hashPayload({ a: "1" }));
  t.is(canonicalJson({ b: 1, a: [{ y: 1, x: 2 }] }), '{"a":[{"x":2,"y":1}],"b":1}');
});
