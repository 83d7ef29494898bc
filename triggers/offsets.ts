// Where a feed's consumer group starts: a group that never committed starts at the end of each partition as of
// now (auto.offset.reset=latest, pinned when the trigger is created, so nothing produced after CREATE is missed);
// one that did (a trigger created again under its name) resumes from its committed offsets.
import type { Kafka } from "kafkajs";
import { isTransientKafkaError, retryWithinDeadline } from "../lib/step/index.ts";

/** A broker that has just started answers "coordinator not available" or "not the correct coordinator" a while. */
const PIN_WITHIN_MS = 30_000;

export function pinLatest(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  return retryWithinDeadline(() => pinOnce(kafka, groupId, topic), {
    deadline: { at: Date.now() + PIN_WITHIN_MS, reserveMs: 0 },
    now: Date.now,
    isTransient: isTransientKafkaError,
  });
}

async function pinOnce(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (committed.some((entry) => entry.partitions.some((p) => Number(p.offset) >= 0))) return;
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  } finally {
    await admin.disconnect();
  }
}
