// What the lossless feed's CREATE and UPDATE accept: kafkaFeed's parameters (brokers, topic and the encodings, so
// steps run unchanged on either feed), how to reach Kafka as the steps do (SASL as `user` and `password`, with
// `kafka_sasl_mechanism`; TLS with `kafka_tls` and `kafka_ca`: IBM Event Streams is SASL_SSL only), and its own
// (the dead-letter topic, batch window and size, attempts). Pure: each refusal is one precise message, unit-tested.
import { ConfigError } from "../../lib/config/settings.ts";
import { FeedRefusal, flagsOf, validateCreate } from "../../lib/feed/kafka-feed-rules.ts";
import { kafkaSettingsFromParams, type SaslMechanism } from "../../lib/kafka/config.ts";
import { TRIGGER_BOUNDS, TRIGGER_DEFAULTS } from "./lossless-settings.ts";

/** How the provider reaches the trigger's Kafka; the SASL password is kept sealed, apart (sealed-key.ts). */
export interface KafkaConnection {
  ssl: boolean;
  ca?: string;
  sasl?: { mechanism: SaslMechanism; username: string };
}

export interface LosslessRequest {
  topic: string;
  brokers: string[];
  kafka: KafkaConnection;
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

function tunables(params: Record<string, unknown>, base: Omit<LosslessRequest, "topic" | "brokers" | "kafka">) {
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

/** CREATE's request, and the SASL password apart: it is sealed, never kept in the clear. */
export function validateLosslessCreate(params: Record<string, unknown>): LosslessRequest & { password?: string } {
  const { topic, brokers } = validateCreate("kafkaFeed", params);
  const defaults = { isJSONData: false, isBinaryKey: false, isBinaryValue: false, ...TRIGGER_DEFAULTS };
  const { kafka, password } = connectionOf(params, brokers);
  return {
    topic,
    brokers: brokers.map((b) => b.trim()),
    kafka,
    ...tunables(params, defaults),
    ...(password ? { password } : {}),
  };
}

/** The steps' own rules (lib/kafka/config.ts): a user needs a password, TLS follows SASL unless kafka_tls says. */
function connectionOf(
  params: Record<string, unknown>,
  brokers: string[],
): { kafka: KafkaConnection; password?: string } {
  try {
    const settings = kafkaSettingsFromParams({ ...params, kafka_brokers_sasl: brokers }, "lossless-feed");
    if (!settings) return { kafka: { ssl: false } };
    const { ssl, ca, sasl } = settings;
    return {
      kafka: {
        ssl,
        ...(ca ? { ca } : {}),
        ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username } } : {}),
      },
      ...(sasl ? { password: sasl.password } : {}),
    };
  } catch (err) {
    if (err instanceof ConfigError)
      throw new FeedRefusal(400, `'${err.setting}' ${err.message.slice(err.setting.length + 2)}.`);
    throw err;
  }
}

/** UPDATE changes the encodings and the feed's own settings; the topic and brokers stay (delete and create again). */
export function validateLosslessUpdate(
  params: Record<string, unknown>,
  current: LosslessRequest,
): Omit<LosslessRequest, "topic" | "brokers" | "kafka"> {
  for (const fixed of ["topic", "brokers"] as const) {
    if (params[fixed] !== undefined && JSON.stringify(params[fixed]) !== JSON.stringify(current[fixed]))
      throw new FeedRefusal(400, `'${fixed}' cannot be updated: delete the trigger and create it again.`);
  }
  return tunables(params, current);
}
