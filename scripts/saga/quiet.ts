// When is the system quiet? Every trigger's consumer group has consumed its topics to the end, no topic grew
// since the last look, no outbox holds an unpublished event, no batch is landed or parked, every offset the feeds
// committed is covered by a step, and no work order is open: then nothing is left to happen.
import type { Admin, Kafka } from "kafkajs";
import { DATABASES, SWEPT_STEPS, TOPICS } from "../../functions/topology.ts";
import { openWorkOrders } from "../../functions/workorders/deadlines.ts";
import { describeError } from "../../lib/errors.ts";
import { groupLags, type TopicEnds, topicEndsOf } from "../../lib/kafka/lag.ts";
import { findLandings, findStaleOutboxes, uncoveredOffsets } from "../../lib/step/tools.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { isSagaFeedGroup } from "./reset.ts";

export async function topicEnds(admin: Admin): Promise<TopicEnds> {
  return topicEndsOf(
    admin,
    TOPICS.map(({ topic }) => topic),
  );
}

/** Records the feeds' consumer groups (one per trigger, named /namespace/trigger) have not consumed yet. */
export async function feedLag(admin: Admin, ends: TopicEnds): Promise<number> {
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(isSagaFeedGroup);
  return (await groupLags(admin, groups, ends)).reduce((sum, group) => sum + group.lag, 0);
}

/** Outboxes not yet published, and landed batches not yet cleared (running, or abandoned and awaiting the relay). */
async function pendingOutboxes(cloudant: Cloudant): Promise<number> {
  let pending = 0;
  const later = Date.now() + 3_600_000;
  for (const db of DATABASES) {
    pending += (await findStaleOutboxes(cloudant, db, later, 100)).length;
    pending += (await findLandings(cloudant, db, later, 100)).length;
  }
  return pending;
}

/** Offsets the feeds committed that no step covered yet: the coverage audit will send them on. */
async function uncovered(kafka: Kafka, admin: Admin, cloudant: Cloudant, namespace: string): Promise<number> {
  let total = 0;
  const io = {
    cloudant,
    kafka,
    admin,
    producer: () => Promise.reject(new Error("read only")),
    now: Date.now,
    namespace,
  };
  for (const step of SWEPT_STEPS) total += await uncoveredOffsets(step, io);
  return total;
}

/** Looks in a row that may fail before the wait gives up with the last error. */
const MAX_FAILED_LOOKS = 5;

export async function waitUntilQuiet(
  kafka: Kafka,
  admin: Admin,
  cloudant: Cloudant,
  options: {
    timeoutMs: number;
    settleMs?: number;
    namespace?: string;
    log?: (line: string) => void;
    /** False on the lossless feed: it commits only what an activation settled, so there is no gap to wait for. */
    coverage?: boolean;
  },
): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  let previous = "";
  let calmSince = 0;
  let lastStatus = "";
  let failedLooks = 0;
  while (Date.now() < until) {
    let look: { ends: TopicEnds; lag: number; outboxes: number; open: number; gaps: number };
    try {
      const ends = await topicEnds(admin);
      look = {
        ends,
        lag: await feedLag(admin, ends),
        outboxes: await pendingOutboxes(cloudant),
        open: (await openWorkOrders(cloudant)).length,
        gaps: options.coverage === false ? 0 : await uncovered(kafka, admin, cloudant, options.namespace ?? "guest"),
      };
      failedLooks = 0;
    } catch (err) {
      // A look only reads: a store or broker that fails one (a restart, a 500) is asked again, a few times.
      failedLooks += 1;
      if (failedLooks > MAX_FAILED_LOOKS) throw err;
      options.log?.(`  waiting for quiet: a look failed (${describeError(err)}); looking again`);
      calmSince = 0;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      continue;
    }
    const { ends, lag, outboxes, open, gaps } = look;
    const snapshot = JSON.stringify([...ends]);
    const calm = lag === 0 && outboxes === 0 && open === 0 && gaps === 0 && snapshot === previous;
    const status = `${lag} records not yet consumed, ${outboxes} outboxes or batches pending, ${gaps} offsets uncovered, ${open} work orders open`;
    if (status !== lastStatus) options.log?.(`  waiting for quiet: ${status}`);
    lastStatus = status;
    if (calm && calmSince === 0) calmSince = Date.now();
    if (!calm) calmSince = 0;
    if (calm && Date.now() - calmSince >= (options.settleMs ?? 4_000)) return;
    previous = snapshot;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }
  throw new Error(`the system was not quiet after ${options.timeoutMs / 1000} s`);
}
