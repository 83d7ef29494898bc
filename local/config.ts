// Settings of the local OpenWhisk. Every number can come from the options of startLocalOpenWhisk or from the
// environment (LOCAL_OW_*), so tests and benchmarks can shorten the platform's waits and raise or lower its limits.
import { readFileSync } from "node:fs";
import { ConfigError } from "../lib/config/settings.ts";

export interface LocalLimits {
  /** Action invocations per namespace and minute (standalone: 60). */
  invokesPerMinute: number;
  /** Trigger fires per namespace and minute (standalone: 60). */
  firesPerMinute: number;
  /** Activations in flight per namespace (standalone: 30). */
  concurrent: number;
  /** Request body of an invoke or fire, and the result of an action, in bytes (1 MB). */
  payloadBytes: number;
  resultBytes: number;
  /** Longest a blocking invoke waits before answering 202 (60 s). */
  maxBlockingWaitMs: number;
  /** Components of a sequence or a composition (50). */
  sequenceMaxLength: number;
}

export interface FeedTiming {
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

export interface LocalOptions {
  port: number;
  /** uuid:key of the guest namespace; a random one when unset. */
  auth?: string;
  namespace: string;
  limits: LocalLimits;
  feeds: FeedTiming;
  /** Containers kept at most (all actions together) and how long an idle one is kept. */
  maxContainers: number;
  idleContainerMs: number;
  /** Writes the .wskprops-style file here when set. */
  wskpropsPath?: string;
  log: (line: string) => void;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, `expected a non-negative number, got "${raw}"`);
  return value;
}

export type LocalOptionsInput = Partial<Omit<LocalOptions, "limits" | "feeds">> & {
  limits?: Partial<LocalLimits>;
  feeds?: Partial<FeedTiming>;
};

export function resolveOptions(input: LocalOptionsInput = {}): LocalOptions {
  const limits: LocalLimits = {
    invokesPerMinute: envNumber("LOCAL_OW_INVOKES_PER_MINUTE", 60),
    firesPerMinute: envNumber("LOCAL_OW_FIRES_PER_MINUTE", 60),
    concurrent: envNumber("LOCAL_OW_CONCURRENT", 30),
    payloadBytes: envNumber("LOCAL_OW_PAYLOAD_BYTES", 1_048_576),
    resultBytes: envNumber("LOCAL_OW_RESULT_BYTES", 1_048_576),
    maxBlockingWaitMs: envNumber("LOCAL_OW_MAX_BLOCKING_WAIT_MS", 60_000),
    sequenceMaxLength: 50,
    ...input.limits,
  };
  const feeds: FeedTiming = {
    kafkaBatchMs: envNumber("LOCAL_OW_KAFKA_BATCH_MS", 2_000),
    kafkaPollMs: envNumber("LOCAL_OW_KAFKA_POLL_MS", 1_000),
    kafkaPayloadLimit: envNumber("LOCAL_OW_KAFKA_PAYLOAD_LIMIT", 900_000),
    kafkaRetryScale: envNumber("LOCAL_OW_KAFKA_RETRY_SCALE", 1),
    kafkaMaxRetries: envNumber("LOCAL_OW_KAFKA_MAX_RETRIES", 6),
    alarmMinuteMs: envNumber("LOCAL_OW_ALARM_MINUTE_MS", 60_000),
    ...(process.env.LOCAL_OW_KAFKA_CA_FILE
      ? { kafkaCa: readFileSync(process.env.LOCAL_OW_KAFKA_CA_FILE, "utf8") }
      : {}),
    ...input.feeds,
  };
  return {
    port: input.port ?? envNumber("LOCAL_OW_PORT", 3233),
    auth: input.auth ?? (process.env.LOCAL_OW_AUTH || undefined),
    namespace: input.namespace ?? "guest",
    limits,
    feeds,
    maxContainers: input.maxContainers ?? envNumber("LOCAL_OW_MAX_CONTAINERS", 16),
    idleContainerMs: input.idleContainerMs ?? envNumber("LOCAL_OW_IDLE_CONTAINER_MS", 600_000),
    wskpropsPath: input.wskpropsPath,
    log: input.log ?? (() => {}),
  };
}
