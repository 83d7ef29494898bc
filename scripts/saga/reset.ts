// Empties the saga's topics, databases and feed consumer groups on the local stack, so a run's report covers that
// run only. Refuses anything but brokers on this machine: it deletes data.
import type { Admin } from "kafkajs";
import { DATABASES, TOPICS } from "../../functions/topology.ts";
import type { Cloudant } from "../../lib/store/client.ts";

/** The feeds' consumer groups are their triggers' /namespace/name; the saga's triggers are named saga-*. */
export const isSagaFeedGroup = (groupId: string) => /^\/[^/]+\/saga-/.test(groupId);

export async function resetSaga(admin: Admin, cloudant: Cloudant, brokers: string[]): Promise<void> {
  if (!brokers.every((broker) => broker.startsWith("127.0.0.1:") || broker.startsWith("localhost:"))) {
    throw new Error(`refusing to delete the saga's topics on ${brokers.join(",")}: only the local stack is reset`);
  }
  const existing = new Set(await admin.listTopics());
  const topics = TOPICS.map((t) => t.topic).filter((topic) => existing.has(topic));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  // Deleted topics disappear from the broker's metadata a moment later; creating them again before fails.
  for (let i = 0; i < 100 && (await admin.listTopics()).some((topic) => topics.includes(topic)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(isSagaFeedGroup);
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  for (const db of DATABASES) await cloudant.deleteDatabase({ db }).catch(() => undefined);
}
