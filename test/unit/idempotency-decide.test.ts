import { createHash } from "node:crypto";
import test from "ava";
import {
  type Clock,
  canonicalJson,
  DEFAULT_RETENTION_MS,
  deadlineFromEnv,
  decide,
  hashPayload,
  type IdempotencyRecord,
  InvalidDeadlineError,
  isExpired,
} from "../../lib/idempotency/decide.ts";

const now = 1_700_000_000_000; // epoch ms
const hash = hashPayload({ a: 1 });
const otherHash = hashPayload({ a: 2 });
const completed = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  _id: "idem:k",
  status: "COMPLETED",
  payloadHash: hash,
  inProgressExpiresAt: now - 60_000,
  expiresAt: now + DEFAULT_RETENTION_MS,
  result: { ok: 1 },
  ...overrides,
});
/** A lock whose holder's deadline is 30 s after `now`. */
const lock = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord =>
  completed({ status: "INPROGRESS", inProgressExpiresAt: now + 30_000, result: undefined, ...overrides });
const ask = (at: number, payloadHash = hash) => ({ now: at, payloadHash, deadline: at + 60_000 });

test("no record: claim", (t) => {
  t.deepEqual(decide(undefined, ask(now)), { kind: "claim" });
});

test("a completed record past its retention window is claimed again, whatever its payload", (t) => {
  const record = completed({ expiresAt: now });
  t.deepEqual(decide(record, ask(now)), { kind: "claim" }, "expired at its expiresAt");
  t.deepEqual(decide(record, ask(now, otherHash)), { kind: "claim" });
  t.deepEqual(
    decide(record, ask(now - 1)),
    { kind: "duplicate", result: { ok: 1 } },
    "one ms before, still remembered",
  );
});

test("a completed record answers a duplicate with its stored result", (t) => {
  t.deepEqual(decide(completed(), ask(now)), { kind: "duplicate", result: { ok: 1 } });
  t.deepEqual(decide(completed({ result: undefined }), ask(now)), { kind: "duplicate", result: undefined });
});

test("the same key with another payload is refused, completed or in progress", (t) => {
  t.deepEqual(decide(completed(), ask(now, otherHash)), { kind: "payload-mismatch" });
  t.deepEqual(decide(lock(), ask(now, otherHash)), { kind: "payload-mismatch" });
  t.deepEqual(decide(lock({ inProgressExpiresAt: now - 1 }), ask(now, otherHash)), { kind: "payload-mismatch" });
});

test("an in-progress lock lives until its holder's deadline, in milliseconds, and is taken over from then on", (t) => {
  // The deadline is 30 s away. Seconds read as ms would expire it at once; ms read as seconds, in 347 days.
  const record = lock();
  t.deepEqual(decide(record, ask(now)), { kind: "in-progress", retryAfterMs: 30_000 });
  t.deepEqual(decide(record, ask(now + 29_000)), { kind: "in-progress", retryAfterMs: 1_000 });
  t.deepEqual(decide(record, ask(now + 29_999)), { kind: "in-progress", retryAfterMs: 1 });
  t.deepEqual(decide(record, ask(now + 30_000)), { kind: "takeover" }, "OpenWhisk kills the holder at its deadline");
  t.deepEqual(decide(record, ask(now + 30_001)), { kind: "takeover" });
});

test("a live lock is never claimed away by its retention window; a dead one is taken over, not claimed", (t) => {
  t.deepEqual(decide(lock({ expiresAt: now - 1 }), ask(now)), { kind: "in-progress", retryAfterMs: 30_000 });
  t.deepEqual(decide(lock({ expiresAt: now - 1 }), ask(now + 30_000)), { kind: "takeover" });
});

test("one injected clock drives the lock from __OW_DEADLINE to its takeover", (t) => {
  let time = now;
  const clock: Clock = () => time;
  const deadline = deadlineFromEnv({ __OW_DEADLINE: String(now + 30_000) }, clock, 60_000);
  const held = lock({ inProgressExpiresAt: deadline });
  time += 29_000;
  t.deepEqual(decide(held, { now: clock(), payloadHash: hash, deadline: clock() + 60_000 }), {
    kind: "in-progress",
    retryAfterMs: 1_000,
  });
  time += 1_001;
  t.deepEqual(decide(held, { now: clock(), payloadHash: hash, deadline: clock() + 60_000 }), { kind: "takeover" });
});

test("decide refuses a deadline in seconds against a clock in milliseconds", (t) => {
  const inSeconds = Math.floor((now + 30_000) / 1000);
  const error = t.throws(() => decide(undefined, { now, payloadHash: hash, deadline: inSeconds }), {
    instanceOf: InvalidDeadlineError,
  });
  t.is(error.message, `deadline ${inSeconds} is more than a day from now ${now}: are both epoch ms?`);
  t.throws(() => decide(undefined, { now: now / 1000, payloadHash: hash, deadline: now + 30_000 }), {
    instanceOf: InvalidDeadlineError,
  });
});

test("isExpired: a completed record from its expiresAt on; an in-progress one only once its lock is dead too", (t) => {
  t.false(isExpired(completed({ expiresAt: now + 1 }), now));
  t.true(isExpired(completed({ expiresAt: now }), now));
  t.false(isExpired(lock({ expiresAt: now - 1 }), now), "live lock");
  t.true(isExpired(lock({ expiresAt: now - 1 }), now + 30_000));
  t.false(isExpired(lock(), now + 30_000), "dead lock, retention not over");
});

test("the retention window is seven days, in milliseconds", (t) => {
  t.is(DEFAULT_RETENTION_MS, 604_800_000);
});

test("deadlineFromEnv reads __OW_DEADLINE as epoch ms, or falls back to now + fallback", (t) => {
  const clock: Clock = () => now;
  t.is(deadlineFromEnv({ __OW_DEADLINE: String(now + 45_000) }, clock, 60_000), now + 45_000);
  t.is(deadlineFromEnv({ __OW_DEADLINE: ` ${now + 45_000}\n` }, clock, 60_000), now + 45_000);
  t.is(deadlineFromEnv({}, clock, 60_000), now + 60_000);
  t.is(deadlineFromEnv({ __OW_DEADLINE: "" }, clock, 5_000), now + 5_000);
  t.is(
    deadlineFromEnv({ __OW_DEADLINE: "31000" }, () => 1_000, 60_000),
    31_000,
    "small test clocks work too",
  );
});

test("deadlineFromEnv refuses text that is not epoch ms, and seconds", (t) => {
  const clock: Clock = () => now;
  for (const raw of ["abc", "12.5", "1e12", "-5", "0x10"]) {
    const error = t.throws(() => deadlineFromEnv({ __OW_DEADLINE: raw }, clock, 60_000), {
      instanceOf: InvalidDeadlineError,
    });
    t.is(error.message, `__OW_DEADLINE is ${JSON.stringify(raw)}, not epoch milliseconds`);
  }
  const seconds = String(Math.floor(now / 1000) + 60);
  const error = t.throws(() => deadlineFromEnv({ __OW_DEADLINE: seconds }, clock, 60_000), {
    instanceOf: InvalidDeadlineError,
  });
  t.is(error.message, `__OW_DEADLINE is ${seconds}, which reads as epoch seconds; expected milliseconds`);
});

test("the payload hash is SHA-256 over canonical JSON: key order and undefined fields do not count, values do", (t) => {
  t.is(canonicalJson({ b: 1, a: [{ y: 1, x: 2 }], c: undefined }), '{"a":[{"x":2,"y":1}],"b":1}');
  t.is(
    hashPayload({ b: 1, a: [{ y: 1, x: 2 }] }),
    createHash("sha256").update('{"a":[{"x":2,"y":1}],"b":1}').digest("hex"),
  );
  t.is(hashPayload({ a: 1, b: { c: 2, d: [1, 2] } }), hashPayload({ b: { d: [1, 2], c: 2 }, a: 1, e: undefined }));
  t.not(hashPayload({ a: 1 }), hashPayload({ a: "1" }));
  t.not(hashPayload({ d: [1, 2] }), hashPayload({ d: [2, 1] }), "array order is data");
  t.not(hashPayload({ a: null }), hashPayload({}), "null is a value, undefined is not");
});

test("canonical JSON follows JSON's own rules for dates, arrays and non-finite numbers", (t) => {
  const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  t.is(canonicalJson({ at: date }), '{"at":"2026-01-02T03:04:05.000Z"}');
  t.is(canonicalJson([undefined, Number.NaN, 1]), "[null,null,1]");
  t.is(canonicalJson({ f: () => 1, n: Number.POSITIVE_INFINITY }), '{"n":null}');
  t.is(canonicalJson("x"), '"x"');
});
