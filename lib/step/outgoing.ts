// Everything a step sends to Kafka in one producer call: outbox events, dead letters and retries; and the one
// mapping from an outbox entry (or an event) to the record that carries it.
import type { Producer } from "kafkajs";
import type { CloudEvent } from "../events/envelope.ts";
import type { OutboxEntry } from "./documents.ts";
import { type Deadline, isTransientKafkaError, retryWithinDeadline } from "./transient.ts";

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: string;
}

/** An outbox entry as the record that carries it: the event as JSON, keyed by the entity it is about. */
export const recordOf = (entry: OutboxEntry): OutgoingRecord => ({
  topic: entry.topic,
  key: entry.key,
  value: JSON.stringify(entry.event),
});

/** Events for one topic, each keyed by its subject. */
export const eventRecords = (topic: string, events: CloudEvent<string, unknown>[]): OutgoingRecord[] =>
  events.map((event) => recordOf({ topic, key: event.subject, event }));

/** Sends the records, trying again while Kafka is away (a restarting broker is back within seconds) until the deadline. */
export async function sendWithinDeadline(
  producer: () => Promise<Producer>,
  records: OutgoingRecord[],
  deadline: Deadline,
  clock: { now: () => number; sleep?: (ms: number) => Promise<void> } = { now: Date.now },
): Promise<void> {
  if (records.length === 0) return;
  await retryWithinDeadline(async () => sendRecords(await producer(), records, 10_000), {
    deadline,
    now: clock.now,
    isTransient: isTransientKafkaError,
    sleep: clock.sleep,
  });
}

/** One sendBatch for the whole batch: the idempotent producer writes each partition's records in order. */
export async function sendRecords(producer: Producer, records: OutgoingRecord[], timeoutMs: number): Promise<void> {
  if (records.length === 0) return;
  const byTopic = new Map<string, { key: string | null; value: string }[]>();
  for (const record of records) {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value });
    byTopic.set(record.topic, messages);
  }
  await producer.sendBatch({
    acks: -1,
    timeout: timeoutMs,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}
