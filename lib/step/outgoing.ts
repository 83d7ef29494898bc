// Everything a step sends to Kafka in one producer call: outbox events, dead letters and retries.
import type { Producer } from "kafkajs";

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: string;
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
