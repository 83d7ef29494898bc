// KafkaJS configured from KafkaSettings: client, idempotent producer, consumer and topic administration.

import { type Admin, type Consumer, Kafka, type logCreator, logLevel, Partitioners, type Producer } from "kafkajs";
import { SagaError } from "../errors.ts";
import { propertyOf } from "../narrow.ts";
import type { KafkaSettings } from "./config.ts";

const LOG_LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Topics that cannot be made as wanted (partitions differ, no leader in time). */
export class KafkaSetupError extends SagaError {
  override name = "KafkaSetupError";
}

/** KAFKA_LOG_LEVEL (nothing, error, warn, info, debug; default warn). */
function logLevelFromEnv(): logLevel {
  return LOG_LEVELS[(process.env.KAFKA_LOG_LEVEL ?? "warn").toLowerCase()] ?? logLevel.WARN;
}

/** Log lines of the same kind (numbers aside) printed at most once in this many ms; the rest are counted. */
const LOG_EVERY_MS = 30_000;
/** The details of a KafkaJS log entry worth a reader's eye; the rest (correlation ids, sizes, client ids) is noise. */
const LOG_DETAILS = ["broker", "topic", "groupId", "error", "retryCount"] as const;

export interface KafkaLogEntry {
  namespace: string;
  label: string;
  log: Record<string, unknown>;
}

/**
 * One KafkaJS log entry as one readable line, or nothing while a line of the same kind was printed less than 30 s
 * ago (the next one says how many were held back). KafkaJS logs every retry of a passing broker hiccup at error
 * level: a broker restart printed hundreds of raw JSON lines.
 */
export function kafkaLogLine(
  entry: KafkaLogEntry,
  now: number,
  seen: Map<string, { at: number; held: number }>,
): string | undefined {
  const message = String(entry.log.message ?? "");
  // The kit retries sends itself and consumers deduplicate by id, so KafkaJS's caution about bounded retries on an
  // idempotent producer tells a reader nothing they can act on.
  if (message.startsWith("Limiting retries for the idempotent producer")) return undefined;
  const key = `${entry.namespace}:${message.replace(/\d+/g, "#")}`;
  const last = seen.get(key);
  if (last && now - last.at < LOG_EVERY_MS) {
    last.held += 1;
    return undefined;
  }
  seen.set(key, { at: now, held: 0 });
  const details = LOG_DETAILS.flatMap((name) =>
    entry.log[name] === undefined ? [] : [`${name} ${String(entry.log[name])}`],
  );
  const held = last?.held ? ` (${last.held} more like it in the last 30 s)` : "";
  const detail = details.length > 0 ? ` [${details.join(", ")}]` : "";
  return `kafka ${entry.label.toLowerCase()} ${entry.namespace}: ${message}${detail}${held}`;
}

const lastLogged = new Map<string, { at: number; held: number }>();

const rateLimitedLog: logCreator =
  () =>
  ({ namespace, label, log }) => {
    const line = kafkaLogLine({ namespace, label, log }, Date.now(), lastLogged);
    if (line) console.error(line);
  };

export function createKafka(settings: KafkaSettings, level: logLevel = logLevelFromEnv()): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl && settings.ca ? { ca: [settings.ca] } : settings.ssl,
    ...(settings.sasl ? { sasl: settings.sasl } : {}),
    logLevel: level,
    logCreator: rateLimitedLog,
    connectionTimeout: 5_000,
    retry: { retries: 5, initialRetryTime: 200 },
  });
}

/**
 * A producer that the broker deduplicates on retry (idempotent, acks=all). One request in flight keeps each
 * partition's order even when a send is retried.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

export function createConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, retry: { retries: 5 } });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
}

/**
 * Creates the topics that do not exist yet (brokers here run with auto-creation off), waits until every topic has a
 * leader for each partition, and fails when an existing topic has fewer partitions than asked, since per-entity
 * ordering depends on the partition count.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], timeoutMs = 15_000): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length > 0) {
    // KafkaJS's own wait for leaders fails on the broker's "unknown topic" answer; the loop below waits instead.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((spec) => ({ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: -1 })),
    });
  }
  const metadata = await topicMetadataWhenLeadersKnown(
    admin,
    specs.map((spec) => spec.topic),
    timeoutMs,
  );
  for (const spec of specs) {
    const partitions = metadata.get(spec.topic) ?? 0;
    if (partitions < spec.partitions) {
      throw new KafkaSetupError(`topic ${spec.topic} has ${partitions} partitions, ${spec.partitions} wanted`);
    }
  }
}

/** A new topic's metadata reaches the broker's cache a moment after creation; until then reads fail as retriable. */
async function topicMetadataWhenLeadersKnown(admin: Admin, topics: string[], timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.topics.every((topic) => topic.partitions.every((partition) => partition.leader >= 0));
      if (ready) return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    } catch (err) {
      if (propertyOf(err, "retriable") !== true || Date.now() > until) throw err;
    }
    if (Date.now() > until)
      throw new KafkaSetupError(`topics ${topics.join(", ")} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
