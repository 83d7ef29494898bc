// How far consumer groups are behind: per group, the records consumed (committed offsets) and those not yet
// consumed (the lag), from the broker's own offsets.
import type { Admin } from "kafkajs";

export interface GroupLag {
  group: string;
  /** Sum of the committed offsets: its growth between two looks is the group's throughput. */
  consumed: number;
  /** Records on the group's topics after its committed offsets. */
  lag: number;
}

/** `topic:partition` -> the partition's end offset (high watermark). */
export type TopicEnds = Map<string, number>;

export async function topicEndsOf(admin: Admin, topics: Iterable<string>, into: TopicEnds = new Map()) {
  for (const topic of new Set(topics)) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic))
      into.set(`${topic}:${partition}`, Number(high));
  }
  return into;
}

/** Each group's lag; topics missing from `ends` are looked up. A group that never committed has consumed nothing. */
export async function groupLags(admin: Admin, groups: string[], ends: TopicEnds = new Map()): Promise<GroupLag[]> {
  const lags: GroupLag[] = [];
  for (const group of groups) {
    const offsets = await admin.fetchOffsets({ groupId: group });
    await topicEndsOf(
      admin,
      offsets.map((o) => o.topic).filter((topic) => ![...ends.keys()].some((key) => key.startsWith(`${topic}:`))),
      ends,
    );
    let consumed = 0;
    let lag = 0;
    for (const { topic, partitions } of offsets) {
      for (const { partition, offset } of partitions) {
        const committed = Math.max(0, Number(offset));
        consumed += committed;
        lag += Math.max(0, (ends.get(`${topic}:${partition}`) ?? 0) - committed);
      }
    }
    lags.push({ group, consumed, lag });
  }
  return lags;
}
