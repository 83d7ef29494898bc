// Reading a range of offsets of one partition back from Kafka, and a consumer group's committed offsets. KafkaJS
// has no fetch-by-offset call outside a consumer group, so the range is read by a short-lived group of its own
// that seeks to the range's start and is deleted afterwards.
import { randomUUID } from "node:crypto";
import type { Admin, IHeaders, Kafka } from "kafkajs";

export interface RangeRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface ReadRange {
  records: RangeRecord[];
  /** The partition's earliest offset still kept: offsets below it were deleted (retention) and are gone. */
  earliest: number;
}

/** The records at offsets from..to (inclusive) that Kafka still has; offsets without a record are skipped. */
export async function readRange(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: number,
  to: number,
  timeoutMs = 30_000,
): Promise<ReadRange> {
  const admin = kafka.admin();
  await admin.connect();
  let earliest = 0;
  let end = to;
  try {
    const offsets = (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
    earliest = Number(offsets?.low ?? 0);
    end = Math.min(to, Number(offsets?.high ?? 0) - 1);
  } finally {
    await admin.disconnect();
  }
  const start = Math.max(from, earliest);
  if (start > end) return { records: [], earliest };
  const groupId = `ow-saga-range-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const records: RangeRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}:${partition} offsets ${start}..${end} took over ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic, partition, offset: String(start) }));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const message of batch.messages) {
              const offset = Number(message.offset);
              if (offset >= start && offset <= end)
                records.push({ offset, key: message.key, value: message.value, headers: message.headers });
            }
            // Done once the range is read, or the partition is read to its end (the rest were control records).
            if (Number(batch.lastOffset()) >= end || Number(batch.highWatermark) - 1 <= Number(batch.lastOffset()))
              done();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const admin2 = kafka.admin();
    await admin2
      .connect()
      .then(() => admin2.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin2.disconnect());
  }
  return { records, earliest };
}

/** The first offset not yet committed by a consumer group, per partition of the topic; none when it never committed. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const committed = new Map<number, number>();
  for (const entry of await admin.fetchOffsets({ groupId, topics: [topic] })) {
    for (const { partition, offset } of entry.partitions) {
      if (Number(offset) >= 0) committed.set(partition, Number(offset));
    }
  }
  return committed;
}
