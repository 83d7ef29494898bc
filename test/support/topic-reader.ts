// Reads everything on a topic from the beginning, through a consumer group of its own, until the topic is quiet.
import type { KafkaMessage } from "kafkajs";
import { createConsumer } from "../../lib/kafka/client.ts";
import { testKafka, uniqueName } from "./services.ts";

export interface ReadRecord {
  key: string | null;
  value: string;
  partition: number;
  offset: string;
}

export async function readTopic(
  topic: string,
  options: { atLeast?: number; quietMs?: number; timeoutMs?: number } = {},
) {
  const consumer = createConsumer(testKafka(), uniqueName("reader"));
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let last = Number.POSITIVE_INFINITY; // quiet time counts from the group join, not from the subscription
    consumer.on(consumer.events.GROUP_JOIN, () => {
      last = Date.now();
    });
    await consumer.run({
      eachMessage: async ({ message, partition }: { message: KafkaMessage; partition: number }) => {
        records.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? "",
          partition,
          offset: message.offset,
        });
        last = Date.now();
      },
    });
    const started = Date.now();
    const quietMs = options.quietMs ?? 1_500;
    const timeoutMs = options.timeoutMs ?? 20_000;
    while (Date.now() - started < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (records.length >= (options.atLeast ?? 0) && Date.now() - last > quietMs) break;
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export const values = (records: ReadRecord[]) => records.map((r) => JSON.parse(r.value) as Record<string, unknown>);
