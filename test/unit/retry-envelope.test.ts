// A retry envelope is the step's own: it is unwrapped only on the step's retry topic and only when that step wrote
// it; anywhere else it is a value like any other (and fails as a CloudEvent). Its notBefore never makes an
// activation wait longer than the kit's own longest delay.
import test from "ava";
import { decodeFeedParams } from "../../lib/feed/decode.ts";
import { classify } from "../../lib/step/classify.ts";
import { retryDelayMs } from "../../lib/step/letters.ts";
import { waitForRetryDelay } from "../../lib/step/rounds.ts";
import { DEFAULT_LIMITS } from "../../lib/step/spec.ts";
import { catalog, tallyAdded } from "../support/step-fixture.ts";

const step = {
  name: "tally.add",
  topics: { retry: "tally.add.retry" },
  catalog,
  handles: ["tally.added"],
  maxAttempts: 5,
};

function classified(topic: string, envelope: Record<string, unknown>) {
  const decoded = decodeFeedParams({
    messages: [{ topic, partition: 0, offset: 0, key: null, value: JSON.stringify(envelope) }],
  });
  if (!decoded.ok) throw new Error(decoded.message);
  return classify(decoded.records, step)[0];
}

const envelope = (over: Record<string, unknown> = {}) => ({
  stepretry: 1,
  step: "tally.add",
  attempt: 3,
  reason: "a passing failure",
  notBefore: 1_000,
  value: tallyAdded("c", 1),
  ...over,
});

test("on the step's own retry topic, its own envelope is unwrapped with its attempt", (t) => {
  t.like(classified("tally.add.retry", envelope()), { kind: "event", attempt: 3, notBefore: 1_000 });
});

test("an envelope on an input topic is a forgery: a dead letter, never a retry", (t) => {
  t.like(classified("tally.in", envelope({ attempt: 99 })), { kind: "dead-letter", reason: "envelope", attempt: 1 });
});

test("an envelope another step wrote is not unwrapped, even on this step's retry topic", (t) => {
  t.like(classified("tally.add.retry", envelope({ step: "someone.else" })), { kind: "dead-letter", attempt: 1 });
});

test("a notBefore an hour away makes the activation wait no longer than the kit's longest delay", async (t) => {
  const now = 1_700_000_000_000;
  let waited = 0;
  const message = { notBefore: now + 3_600_000 } as never;
  await waitForRetryDelay(
    [message],
    {
      now: () => now,
      deadline: now + 300_000,
      sleep: async (ms: number) => {
        waited = ms;
      },
    } as never,
    DEFAULT_LIMITS,
  );
  t.is(waited, retryDelayMs(DEFAULT_LIMITS.retryAttempts));
  t.true(waited <= 32_000);
});
