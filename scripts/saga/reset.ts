// Empties the saga's topics, databases and feed consumer groups on the local stack, so a run's report covers that
// run only. Refuses anything but brokers on this machine: it deletes data.
import type { Admin } from "kafkajs";
import { DATABASES, TOPICS } from "../../functions/topology.ts";
import { isTransientKafkaError, retryWithinDeadline } from "../../lib/step/index.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { DEFAULT_REGISTRATIONS_DB } from "../../triggers/lossless/registrations.ts";

/** The feeds' consumer groups are their triggers' /namespace/name; the saga's triggers are named saga-*. */
export const isSagaFeedGroup = (groupId: string) => /^\/[^/]+\/saga-/.test(groupId);

/** A broker that has just started answers "coordinator is loading" for a while: wait it out, up to 60 s. */
function patiently<T>(call: () => Promise<T>): Promise<T> {
  return retryWithinDeadline(call, {
    deadline: { at: Date.now() + 60_000, reserveMs: 0 },
    now: Date.now,
    isTransient: isTransientKafkaError,
  });
}

export async function resetSaga(admin: Admin, cloudant: Cloudant, brokers: string[]): Promise<void> {
  if (!brokers.every((broker) => broker.startsWith("127.0.0.1:") || broker.startsWith("localhost:"))) {
    throw new Error(`refusing to delete the saga's topics on ${brokers.join(",")}: only the local stack is reset`);
  }
  const existing = new Set(await patiently(() => admin.listTopics()));
  const topics = TOPICS.map((t) => t.topic).filter((topic) => existing.has(topic));
  if (topics.length > 0) await patiently(() => admin.deleteTopics({ topics, timeout: 30_000 }));
  // Deleted topics disappear from the broker's metadata a moment later; creating them again before fails.
  for (let i = 0; i < 100 && (await admin.listTopics()).some((topic) => topics.includes(topic)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const groups = (await patiently(() => admin.listGroups())).groups.map((g) => g.groupId).filter(isSagaFeedGroup);
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  for (const db of DATABASES) await cloudant.deleteDatabase({ db }).catch(() => undefined);
  // The lossless feed's registrations name the triggers of a local OpenWhisk that is gone.
  await cloudant.deleteDatabase({ db: DEFAULT_REGISTRATIONS_DB }).catch(() => undefined);
}
