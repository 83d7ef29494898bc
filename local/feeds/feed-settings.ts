// Settings of the built-in feeds. Each can come from the provider's constructor or from the environment
// (LOCAL_OW_KAFKA_*, LOCAL_OW_ALARM_*), so tests and benchmarks can shorten the feeds' waits.
import { readFileSync } from "node:fs";
import { envNumber } from "../../lib/config/settings.ts";

export interface FeedSettings {
  /** Kafka feed: how long a batch is collected (about 2 s in the provider). */
  kafkaBatchMs: number;
  /** Kafka feed: a batch also ends after this long without a new message (the provider's poll(1.0)). */
  kafkaPollMs: number;
  /** Kafka feed: JSON size cap of one fire (900,000 bytes). */
  kafkaPayloadLimit: number;
  /** Kafka feed: retry n waits 2^n seconds times this scale (1 = 2, 4, ... 64 s). */
  kafkaRetryScale: number;
  kafkaMaxRetries: number;
  /** Alarm feed: length of the interval feed's minute (60,000 ms), and its 30 s start delay is half of it. */
  alarmMinuteMs: number;
  /** PEM certificates the Kafka feed trusts besides the system's (LOCAL_OW_KAFKA_CA_FILE): a local SASL_SSL broker. */
  kafkaCa?: string;
}

export function feedSettings(overrides: Partial<FeedSettings> = {}): FeedSettings {
  return {
    kafkaBatchMs: envNumber("LOCAL_OW_KAFKA_BATCH_MS", 2_000),
    kafkaPollMs: envNumber("LOCAL_OW_KAFKA_POLL_MS", 1_000),
    kafkaPayloadLimit: envNumber("LOCAL_OW_KAFKA_PAYLOAD_LIMIT", 900_000),
    kafkaRetryScale: envNumber("LOCAL_OW_KAFKA_RETRY_SCALE", 1),
    kafkaMaxRetries: envNumber("LOCAL_OW_KAFKA_MAX_RETRIES", 6),
    alarmMinuteMs: envNumber("LOCAL_OW_ALARM_MINUTE_MS", 60_000),
    ...(process.env.LOCAL_OW_KAFKA_CA_FILE
      ? { kafkaCa: readFileSync(process.env.LOCAL_OW_KAFKA_CA_FILE, "utf8") }
      : {}),
    ...overrides,
  };
}
