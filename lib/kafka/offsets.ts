// Where a feed's consumer group starts: a group that never committed starts at the end of each partition as of
// now (auto.offset.reset=latest, pinned when the trigger is created, so nothing produced after CREATE is missed);
// one that did (a trigger created again under its name) resumes from its committed offsets.
import type { Kafka } from "kafkajs";
import { SagaError } from "../errors.ts";
import { messageOf } from "../narrow.ts";
import { GaveUp, isTransientKafkaError, retryWithinDeadline } from "../retry.ts";

/**
 * A broker that has just started answers "coordinator not available" a while; a group whose consumers died without
 * leaving (a killed process) keeps them until their session times out, 30 s for KafkaJS and for the providers here.
 */
const PIN_WITHIN_MS = 45_000;

/** The group still has members: its offsets cannot be set until they leave or their session times out. */
export class GroupInUse extends SagaError {
  override name = "GroupInUse";
}

const inUse = (err: unknown) => /must have no running instances/.test(messageOf(err));

export async function pinLatest(
  kafka: Kafka,
  groupId: string,
  topic: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  let said = false;
  try {
    await retryWithinDeadline(() => pinOnce(kafka, groupId, topic), {
      deadline: { at: Date.now() + PIN_WITHIN_MS, reserveMs: 0 },
      now: Date.now,
      maxDelayMs: 1_000,
      isTransient: (err) => {
        if (!(err instanceof GroupInUse)) return isTransientKafkaError(err);
        if (!said) log(`${groupId}: waiting for consumers a stopped process left in the group to time out (30 s)`);
        said = true;
        return true;
      },
    });
  } catch (err) {
    const cause = err instanceof GaveUp ? err.lastError : err;
    if (cause instanceof GroupInUse)
      throw new GroupInUse(`${cause.message} ${PIN_WITHIN_MS / 1000} s on: another provider still consumes for it`);
    throw err;
  }
}

async function pinOnce(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (committed.some((entry) => entry.partitions.some((p) => Number(p.offset) >= 0))) return;
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin
      .setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) })
      .catch((err: unknown) => {
        throw inUse(err) ? new GroupInUse(`consumer group ${groupId} still has members`) : err;
      });
  } finally {
    await admin.disconnect();
  }
}
