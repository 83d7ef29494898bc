// What the lossless feed's CREATE and UPDATE accept: kafkaFeed's parameters (brokers, topic and the encodings, so
// steps run unchanged on either feed) and its own (the dead-letter topic, batch window and size, attempts). Pure:
// each refusal is one precise message, unit-tested.
import { FeedRefusal, flagsOf, validateCreate } from "../kafka-feed-rules.ts";
import { TRIGGER_BOUNDS, TRIGGER_DEFAULTS } from "./settings.ts";

export interface LosslessRequest {
  topic: string;
  brokers: string[];
  isJSONData: boolean;
  isBinaryKey: boolean;
  isBinaryValue: boolean;
  deadLetterTopic: string;
  batchMs: number;
  batchBytes: number;
  maxAttempts: number;
}

type Tunable = keyof typeof TRIGGER_BOUNDS;

function wholeNumber(params: Record<string, unknown>, name: Tunable, fallback: number): number {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = Number(raw);
  const [min, max] = TRIGGER_BOUNDS[name];
  if (!Number.isInteger(value) || value < min || value > max)
    throw new FeedRefusal(400, `'${name}' must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}.`);
  return value;
}

function deadLetterTopicOf(params: Record<string, unknown>, fallback: string): string {
  const raw = params.deadLetterTopic;
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (typeof raw !== "string" || !/^[a-zA-Z0-9._-]{1,249}$/.test(raw))
    throw new FeedRefusal(400, `'deadLetterTopic' must be a Kafka topic name, not ${JSON.stringify(raw)}.`);
  return raw;
}

function tunables(params: Record<string, unknown>, base: Omit<LosslessRequest, "topic" | "brokers">) {
  const flags = flagsOf({ ...base, ...params });
  if (flags.isJSONData && flags.isBinaryValue)
    throw new FeedRefusal(400, "isJSONData and isBinaryValue cannot both be enabled.");
  return {
    ...flags,
    deadLetterTopic: deadLetterTopicOf(params, base.deadLetterTopic),
    batchMs: wholeNumber(params, "batchMs", base.batchMs),
    batchBytes: wholeNumber(params, "batchBytes", base.batchBytes),
    maxAttempts: wholeNumber(params, "maxAttempts", base.maxAttempts),
  };
}

export function validateLosslessCreate(params: Record<string, unknown>): LosslessRequest {
  const { topic, brokers } = validateCreate("kafkaFeed", params);
  const defaults = { isJSONData: false, isBinaryKey: false, isBinaryValue: false, ...TRIGGER_DEFAULTS };
  return { topic, brokers: brokers.map((b) => b.trim()), ...tunables(params, defaults) };
}

/** UPDATE changes the encodings and the feed's own settings; the topic and brokers stay (delete and create again). */
export function validateLosslessUpdate(
  params: Record<string, unknown>,
  current: LosslessRequest,
): Omit<LosslessRequest, "topic" | "brokers"> {
  for (const fixed of ["topic", "brokers"] as const) {
    if (params[fixed] !== undefined && JSON.stringify(params[fixed]) !== JSON.stringify(current[fixed]))
      throw new FeedRefusal(400, `'${fixed}' cannot be updated: delete the trigger and create it again.`);
  }
  return tunables(params, current);
}
