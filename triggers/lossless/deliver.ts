// One batch of one partition, delivered losslessly: fired, followed until every rule's action has ended, and
// settled only then. A failed action gets the same batch again (backing off); after the trigger's attempts it goes
// to the dead-letter topic with its activations and errors. A fire that ran nothing (204, 429, 5xx, no answer) is
// held and fired again, never counted and never settled. The caller commits the offsets when this says "settled".
import type { FeedMessage } from "../../lib/feed/encode.ts";
import type { Hold, RuleFailure, Settlement } from "./follow.ts";
import { backoffMs, type ProviderSettings } from "./lossless-settings.ts";
import type { FireResult } from "./openwhisk-calls.ts";

export interface DeadBatch {
  trigger: string;
  topic: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
  attempts: number;
  failures: RuleFailure[];
  /** The activations of the last attempt, to look at with `wsk activation get`. */
  activationIds: string[];
  failedAt: string;
  messages: FeedMessage[];
  /** Offsets whose record alone is too large for a letter: its value is null here; the record stays on `topic`. */
  omitted?: number[];
}

/** An action's error is cut to this many characters in a letter: it can be as large as its result (1 MB). */
export const LETTER_ERROR_CHARS = 4_000;

/** A letter must fit in one Kafka record: brokers, Event Streams among them, refuse records over about 1 MB. */
export const LETTER_BYTES = 1_000_000;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * The letters a dead batch is written as, each within LETTER_BYTES: errors cut short, and the messages split in
 * offset order over as many letters as they need. A letter that could not be written would hold its partition.
 */
export function lettersFor(batch: DeadBatch): DeadBatch[] {
  const failures = batch.failures.map((failure) =>
    failure.error.length > LETTER_ERROR_CHARS
      ? { ...failure, error: `${failure.error.slice(0, LETTER_ERROR_CHARS)}… (cut from ${failure.error.length})` }
      : failure,
  );
  const bare: DeadBatch = { ...batch, failures, messages: [] };
  // Room for the messages: what the rest takes, with room for the offsets and the list of omitted ones.
  const room = LETTER_BYTES - jsonBytes(bare) - 1_024;
  const letters: DeadBatch[] = [];
  let current: FeedMessage[] = [];
  let omitted: number[] = [];
  let size = 0;
  const close = () => {
    const [head, tail] = [current[0], current.at(-1)];
    if (head && tail)
      letters.push({
        ...bare,
        fromOffset: head.offset,
        toOffset: tail.offset,
        messages: current,
        ...(omitted.length > 0 ? { omitted } : {}),
      });
    [current, omitted, size] = [[], [], 0];
  };
  for (const whole of batch.messages) {
    const fits = jsonBytes(whole) + 1 <= room;
    const message = fits ? whole : { ...whole, value: null };
    const bytes = jsonBytes(message) + 1;
    if (size + bytes > room) close();
    current.push(message);
    if (!fits) omitted.push(whole.offset);
    size += bytes;
  }
  close();
  return letters;
}

export interface DeliveryIO {
  fire(payload: { messages: FeedMessage[] }): Promise<FireResult>;
  follow(triggerActivationId: string): Promise<Settlement>;
  /** Writes the letters in one producer call: all of them, or none. */
  deadLetter(letters: DeadBatch[]): Promise<void>;
  /** False once the partition was taken away (rebalance) or the trigger's feed stopped: leave the batch. */
  stillOwned(): boolean;
  /** Waits, keeping the consumer's membership alive. */
  pause(ms: number): Promise<void>;
  log(line: string): void;
}

export type Delivery =
  | { kind: "settled"; how: "succeeded" | "dead-lettered"; attempts: number }
  /** Not settled: the partition moved or the feed stopped ("moved"), or the trigger is gone or refuses the key. */
  | { kind: "left"; why: "moved" | "gone" | "unauthorized"; reason: string };

export async function deliver(
  trigger: { name: string; maxAttempts: number },
  messages: FeedMessage[],
  io: DeliveryIO,
  settings: ProviderSettings,
): Promise<Delivery> {
  const first = messages[0];
  const last = messages.at(-1);
  if (!first || !last) return { kind: "settled", how: "succeeded", attempts: 0 };
  const where = `${first.topic}/${first.partition} offsets ${first.offset}..${last.offset}`;
  let attempts = 0;
  let holds = 0;
  // Nothing ran that could count (204, 429, a whisk error, no answer): fire again later, counting nothing. OpenWhisk's
  // per-minute limits are not worth asking again before the minute is over.
  const hold = async (why: Hold) => {
    holds += 1;
    if (holds === 1 || holds % 10 === 0) io.log(`${where}: held (${why.reason}), firing again`);
    await io.pause(Math.max(backoffMs(settings, holds), why.perMinute ? settings.throttleHoldMs : 0));
  };
  for (;;) {
    if (!io.stillOwned()) return { kind: "left", why: "moved", reason: "the partition is no longer this consumer's" };
    const fired = await io.fire({ messages });
    if (fired.kind === "gone") return { kind: "left", why: "gone", reason: "the trigger is gone (404)" };
    if (fired.kind === "unauthorized")
      return { kind: "left", why: "unauthorized", reason: `the trigger refuses the key: ${fired.reason}` };
    if (fired.kind === "held") {
      await hold(fired);
      continue;
    }
    const deadLetter = async (failures: RuleFailure[], activationIds: string[]): Promise<Delivery> => {
      const batch: DeadBatch = {
        trigger: trigger.name,
        topic: first.topic,
        partition: first.partition,
        fromOffset: first.offset,
        toOffset: last.offset,
        attempts,
        failures,
        activationIds,
        failedAt: new Date().toISOString(),
        messages,
      };
      // Settled only once the letters are written: until then the batch stays uncommitted.
      for (let tries = 1; ; tries += 1) {
        if (!io.stillOwned())
          return { kind: "left", why: "moved", reason: "the partition is no longer this consumer's" };
        try {
          await io.deadLetter(lettersFor(batch));
          break;
        } catch (err) {
          io.log(`${where}: the dead-letter topic refused the batch (${err instanceof Error ? err.message : err})`);
          await io.pause(backoffMs(settings, tries));
        }
      }
      io.log(`${where}: dead-lettered after ${attempts} attempts (${failures[0]?.error ?? "failed"})`);
      return { kind: "settled", how: "dead-lettered", attempts };
    };
    if (fired.kind === "refused") {
      attempts += 1;
      return deadLetter([{ action: "(trigger)", error: fired.reason }], []);
    }
    // Followed until every activation has ended: a batch is never fired again while a run of it may still go on.
    const settlement = await io.follow(fired.activationId);
    if (settlement.kind === "succeeded") return { kind: "settled", how: "succeeded", attempts: attempts + 1 };
    if (settlement.kind === "held") {
      await hold(settlement);
      continue;
    }
    attempts += 1;
    const ids = [fired.activationId, ...settlement.failures.flatMap((f) => (f.activationId ? [f.activationId] : []))];
    if (attempts >= trigger.maxAttempts) return deadLetter(settlement.failures, ids);
    io.log(`${where}: attempt ${attempts} failed (${settlement.failures[0]?.error ?? "failed"}); firing again`);
    await io.pause(backoffMs(settings, attempts));
  }
}
