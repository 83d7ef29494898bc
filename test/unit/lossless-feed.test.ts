// The lossless feed's decisions: how a fire settles, when a batch is fired again, held or dead-lettered, what
// CREATE and UPDATE accept, and how a partition's messages are cut into fires.
import test from "ava";
import type { FeedMessage } from "../../lib/feed/encode.ts";
import { FeedRefusal } from "../../lib/feed/kafka-feed-rules.ts";
import {
  type DeadBatch,
  deliver,
  LETTER_BYTES,
  LETTER_ERROR_CHARS,
  lettersFor,
} from "../../triggers/lossless/deliver.ts";
import { type ActivationEnd, ruleResultsOf, type Settlement, settle } from "../../triggers/lossless/follow.ts";
import { providerSettings } from "../../triggers/lossless/lossless-settings.ts";
import type { FireResult } from "../../triggers/lossless/openwhisk-calls.ts";
import { validateLosslessCreate, validateLosslessUpdate } from "../../triggers/lossless/rules.ts";
import { chunk } from "../../triggers/lossless/runner.ts";

const settings = providerSettings({ retryBaseMs: 1, retryMaxMs: 4 });
const message = (offset: number, value = `v${offset}`): FeedMessage => ({
  topic: "t",
  partition: 0,
  offset,
  key: null,
  value,
});

test("the rule results are read from the trigger activation's logs; other lines are left out", (t) => {
  const logs = [
    JSON.stringify({ statusCode: 0, success: true, activationId: "a1", action: "guest/one" }),
    "not json",
    JSON.stringify({ statusCode: 1, success: false, action: "guest/two", error: "Rule 'r2' is inactive" }),
  ];
  t.deepEqual(ruleResultsOf(logs), [
    { statusCode: 0, success: true, activationId: "a1", action: "guest/one" },
    { statusCode: 1, success: false, action: "guest/two", error: "Rule 'r2' is inactive" },
  ]);
  t.deepEqual(ruleResultsOf(undefined), []);
});

test("a fire settles only when every rule's action was started and succeeded", (t) => {
  const started = (id: string) => ({ statusCode: 0, success: true, activationId: id, action: `guest/${id}` });
  const ok: ActivationEnd = { success: true };
  t.deepEqual(
    settle(
      [started("a"), started("b")],
      new Map([
        ["a", ok],
        ["b", ok],
      ]),
    ),
    {
      kind: "succeeded",
      activationIds: ["a", "b"],
    },
  );
  const failed = settle(
    [started("a"), started("b")],
    new Map([
      ["a", ok],
      ["b", { success: false, error: "boom" }],
    ]),
  );
  t.deepEqual(failed, { kind: "failed", failures: [{ action: "guest/b", activationId: "b", error: "boom" }] });
  const late = settle([started("a")], new Map([["a", undefined]]));
  t.deepEqual(late, {
    kind: "failed",
    failures: [{ action: "guest/a", activationId: "a", error: "did not end in time" }],
  });
  t.is(settle([], new Map()).kind, "failed", "a fire whose activation lists no rule ran nothing");
});

test("an inactive rule beside an active one is no failure; a throttled or whisk-failed rule is held, not failed", (t) => {
  const started = { statusCode: 0, success: true, activationId: "a", action: "guest/a" };
  const inactive = {
    statusCode: 1,
    success: false,
    action: "guest/b",
    error: "Rule 'guest/r2' is inactive, action 'guest/b' was not activated.",
  };
  t.deepEqual(settle([started, inactive], new Map([["a", { success: true }]])), {
    kind: "succeeded",
    activationIds: ["a"],
  });
  t.like(settle([inactive], new Map()), { kind: "held", reason: "every rule is inactive" });
  const perMinute = {
    statusCode: 1,
    success: false,
    action: "guest/c",
    error: "Too many requests in the last minute (count: 61, allowed: 60).",
  };
  t.deepEqual(settle([started, perMinute], new Map([["a", { success: true }]])), {
    kind: "held",
    reason: perMinute.error,
    perMinute: true,
  });
  const concurrent = { ...perMinute, error: "Too many concurrent requests in flight (count: 31, allowed: 30)." };
  t.like(settle([concurrent], new Map()), { kind: "held", perMinute: false });
  const whisk = { statusCode: 3, success: false, action: "guest/d", error: "Internal server error" };
  t.like(settle([whisk], new Map()), { kind: "held" });
  t.like(settle([started], new Map([["a", { success: false, status: "whisk internal error" }]])), { kind: "held" });
  // A definite failure beside a throttled rule: an attempt.
  t.like(settle([perMinute, started], new Map([["a", { success: false, error: "boom" }]])), { kind: "failed" });
});

function scripted(fires: FireResult[], follows: Settlement[]) {
  const seen = { fires: 0, follows: 0, letters: [] as DeadBatch[], pauses: [] as number[] };
  return {
    seen,
    io: {
      fire: async () => fires[Math.min(seen.fires++, fires.length - 1)] as FireResult,
      follow: async () => follows[Math.min(seen.follows++, follows.length - 1)] as Settlement,
      deadLetter: async (letters: DeadBatch[]) => void seen.letters.push(...letters),
      stillOwned: () => true,
      pause: async (ms: number) => void seen.pauses.push(ms),
      log: () => undefined,
    },
  };
}

const fired: FireResult = { kind: "fired", activationId: "t1" };
const failed: Settlement = { kind: "failed", failures: [{ action: "guest/a", activationId: "a1", error: "boom" }] };
const succeeded: Settlement = { kind: "succeeded", activationIds: ["a2"] };

test("a failed batch is fired again with backoff, and settles when its actions succeed", async (t) => {
  const { io, seen } = scripted([fired], [failed, failed, succeeded]);
  const outcome = await deliver({ name: "/guest/t", maxAttempts: 5 }, [message(0), message(1)], io, settings);
  t.deepEqual(outcome, { kind: "settled", how: "succeeded", attempts: 3 });
  t.deepEqual(seen.pauses, [1, 2]);
  t.is(seen.letters.length, 0);
});

test("after its attempts a batch is dead-lettered with its offsets, activations and errors, then settled", async (t) => {
  const { io, seen } = scripted([fired], [failed]);
  const outcome = await deliver({ name: "/guest/t", maxAttempts: 3 }, [message(4), message(5)], io, settings);
  t.deepEqual(outcome, { kind: "settled", how: "dead-lettered", attempts: 3 });
  t.like(seen.letters[0], {
    trigger: "/guest/t",
    fromOffset: 4,
    toOffset: 5,
    attempts: 3,
    activationIds: ["t1", "a1"],
  });
  t.deepEqual(seen.letters[0]?.failures, failed.kind === "failed" ? failed.failures : []);
});

test("a held settlement (throttled rules) is fired again and never counted; per minute, it waits the minute", async (t) => {
  const heldPerMinute: Settlement = { kind: "held", reason: "Too many requests in the last minute", perMinute: true };
  const { io, seen } = scripted([fired], [heldPerMinute, heldPerMinute, succeeded]);
  const outcome = await deliver({ name: "/guest/t", maxAttempts: 1 }, [message(0)], io, settings);
  t.deepEqual(outcome, { kind: "settled", how: "succeeded", attempts: 1 });
  t.is(seen.fires, 3);
  t.true(
    seen.pauses.every((ms) => ms >= settings.throttleHoldMs),
    `waits ${seen.pauses.join(", ")} ms`,
  );
});

test("204, 429 and no answer are held: fired again, never counted as attempts, never settled by themselves", async (t) => {
  const held: FireResult = { kind: "held", reason: "204: no active rule", perMinute: false };
  const { io, seen } = scripted([held, held, held, fired], [succeeded]);
  const outcome = await deliver({ name: "/guest/t", maxAttempts: 1 }, [message(0)], io, settings);
  t.deepEqual(outcome, { kind: "settled", how: "succeeded", attempts: 1 });
  t.is(seen.fires, 4);
});

test("a trigger that is gone, or refuses the key, leaves the batch unsettled; a refused payload is dead-lettered", async (t) => {
  t.deepEqual(
    await deliver({ name: "x", maxAttempts: 3 }, [message(0)], scripted([{ kind: "gone" }], []).io, settings),
    {
      kind: "left",
      why: "gone",
      reason: "the trigger is gone (404)",
    },
  );
  const unauthorized = scripted([{ kind: "unauthorized", reason: "401" }], []).io;
  t.is((await deliver({ name: "x", maxAttempts: 3 }, [message(0)], unauthorized, settings)).kind, "left");
  const refused = scripted([{ kind: "refused", reason: "413 payload too large" }], []);
  t.like(await deliver({ name: "x", maxAttempts: 3 }, [message(0)], refused.io, settings), { how: "dead-lettered" });
  t.is(refused.seen.letters[0]?.failures[0]?.error, "413 payload too large");
});

test("a dead-letter topic that refuses the letter keeps the batch unsettled until it takes it", async (t) => {
  const { io, seen } = scripted([fired], [failed]);
  let refusals = 2;
  const flaky = {
    ...io,
    deadLetter: async (letters: DeadBatch[]) => {
      if (refusals-- > 0) throw new Error("not the leader");
      seen.letters.push(...letters);
    },
  };
  t.like(await deliver({ name: "x", maxAttempts: 1 }, [message(0)], flaky, settings), { how: "dead-lettered" });
  t.is(seen.letters.length, 1);
});

test("a dead full-size batch whose action echoed it as its error is written as letters that each fit in a Kafka record", (t) => {
  // 1,600 records of about 600 bytes (a 1 MB fire, the cap's upper bound), and an error as large as the batch.
  const messages = Array.from({ length: 1_600 }, (_, i) => ({ ...message(i), value: `${i}-${"x".repeat(600)}` }));
  const echoed = JSON.stringify(messages);
  const letters = lettersFor({
    trigger: "/guest/t",
    topic: "in",
    partition: 0,
    fromOffset: 0,
    toOffset: 1_599,
    attempts: 5,
    failures: [{ action: "guest/a", activationId: "a1", error: echoed }],
    activationIds: ["t1", "a1"],
    failedAt: "2026-11-30T00:00:00.000Z",
    messages,
  });
  t.true(letters.length >= 2, `letters: ${letters.length}`);
  for (const letter of letters) {
    t.true(Buffer.byteLength(JSON.stringify(letter)) <= LETTER_BYTES);
    t.is(letter.messages[0]?.offset, letter.fromOffset);
    t.is(letter.messages.at(-1)?.offset, letter.toOffset);
    t.true((letter.failures[0]?.error.length ?? 0) < LETTER_ERROR_CHARS + 100, "the error is cut short");
    t.is(letter.omitted, undefined);
  }
  t.deepEqual(
    letters.flatMap((letter) => letter.messages),
    messages,
    "every message once, in offset order, unchanged",
  );
});

test("a record too large for any letter is named by its offset, its value left on the topic", (t) => {
  const huge = { ...message(7), value: "y".repeat(LETTER_BYTES) };
  const letters = lettersFor({
    trigger: "/guest/t",
    topic: "in",
    partition: 0,
    fromOffset: 6,
    toOffset: 8,
    attempts: 1,
    failures: [{ action: "guest/a", error: "boom" }],
    activationIds: [],
    failedAt: "2026-11-30T00:00:00.000Z",
    messages: [message(6), huge, message(8)],
  });
  t.true(letters.every((letter) => Buffer.byteLength(JSON.stringify(letter)) <= LETTER_BYTES));
  const all = letters.flatMap((letter) => letter.messages);
  t.deepEqual(
    all.map((m) => m.offset),
    [6, 7, 8],
  );
  t.is(all[1]?.value, null);
  t.deepEqual(
    letters.flatMap((letter) => letter.omitted ?? []),
    [7],
  );
});

test("a partition taken away mid-delivery leaves the batch for its new owner", async (t) => {
  const { io } = scripted([fired], [failed]);
  let owned = 2;
  const outcome = await deliver(
    { name: "x", maxAttempts: 5 },
    [message(0)],
    { ...io, stillOwned: () => owned-- > 0 },
    settings,
  );
  t.is(outcome.kind, "left");
});

test("messages are cut into fires under the size cap; one larger than the cap goes alone", (t) => {
  const small = Array.from({ length: 10 }, (_, i) => message(i, "x".repeat(100)));
  const parts = chunk(small, 450);
  t.true(parts.length > 1);
  t.deepEqual(
    parts.flat().map((m) => m.offset),
    small.map((m) => m.offset),
    "in order, none lost",
  );
  const big = chunk([message(0), message(1, "y".repeat(2_000)), message(2)], 500);
  t.deepEqual(
    big.map((p) => p.map((m) => m.offset)),
    [[0], [1], [2]],
  );
});

test("CREATE takes kafkaFeed's parameters and the feed's own, each checked with one message", (t) => {
  const request = validateLosslessCreate({ triggerName: "/_/t", topic: "orders", brokers: "a:9092, b:9092" });
  t.deepEqual(request, {
    topic: "orders",
    brokers: ["a:9092", "b:9092"],
    isJSONData: false,
    isBinaryKey: false,
    isBinaryValue: false,
    deadLetterTopic: "feed.deadletter",
    batchMs: 50,
    batchBytes: 900_000,
    maxAttempts: 5,
    kafka: { ssl: false },
  });
  const refusal = (params: Record<string, unknown>) =>
    t.throws(() => validateLosslessCreate({ triggerName: "/_/t", topic: "o", brokers: ["a:1"], ...params }), {
      instanceOf: FeedRefusal,
    })?.message;
  t.is(refusal({ batchBytes: 5 }), "'batchBytes' must be a whole number from 1024 to 1000000, not 5.");
  t.is(refusal({ deadLetterTopic: "no spaces" }), "'deadLetterTopic' must be a Kafka topic name, not \"no spaces\".");
  t.is(refusal({ isJSONData: true, isBinaryValue: true }), "isJSONData and isBinaryValue cannot both be enabled.");
  t.is(refusal({ brokers: undefined }), "You must supply a 'brokers' parameter.");
  t.is(refusal({ user: "token" }), "'password' missing; SASL needs both user and password.");
  t.is(
    refusal({ user: "u", password: "p", kafka_sasl_mechanism: "gssapi" }),
    "'kafka_sasl_mechanism' \"gssapi\" is not one of plain, scram-sha-256, scram-sha-512.",
  );
});

test("CREATE reaches Kafka as the steps do: SASL over TLS for Event Streams, the password apart, to be sealed", (t) => {
  const eventStreams = validateLosslessCreate({
    triggerName: "/_/t",
    topic: "orders",
    brokers: ["broker-0:9093"],
    user: "token",
    password: "the-api-key",
  });
  t.deepEqual(eventStreams.kafka, { ssl: true, sasl: { mechanism: "plain", username: "token" } });
  t.is(eventStreams.password, "the-api-key");
  const scram = validateLosslessCreate({
    triggerName: "/_/t",
    topic: "orders",
    brokers: ["kafka:9094"],
    user: "svc",
    password: "pw",
    kafka_sasl_mechanism: "scram-sha-512",
    kafka_tls: "false",
  });
  t.deepEqual(scram.kafka, { ssl: false, sasl: { mechanism: "scram-sha-512", username: "svc" } });
});

test("UPDATE changes the encodings and the feed's settings, keeps the rest, and refuses a new topic", (t) => {
  const current = validateLosslessCreate({ triggerName: "/_/t", topic: "orders", brokers: ["a:1"], maxAttempts: 4 });
  t.like(validateLosslessUpdate({ isJSONData: "true", batchMs: 10 }, current), {
    isJSONData: true,
    batchMs: 10,
    maxAttempts: 4,
  });
  t.throws(() => validateLosslessUpdate({ topic: "other" }, current), {
    message: "'topic' cannot be updated: delete the trigger and create it again.",
  });
});
