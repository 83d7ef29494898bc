// Empties the saga's topics, databases and feed consumer groups on the local stack, so a run's report covers that
// run only. Refuses anything but brokers on this machine: it deletes data.
import type { Admin } from "kafkajs";
import { DATABASES, TOPICS } from "../../functions/topology.ts";
import { isTransientKafkaError, retryWithinDeadline } from "../../lib/step/tools.ts";
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

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why these services are not all on this machine, or undefined when they are: only those are ever reset. */
export function notLocal(brokers: string[], storeUrl: string): string | undefined {
  const remote = brokers.filter((broker) => !LOCAL_HOSTS.has(broker.slice(0, broker.lastIndexOf(":"))));
  if (remote.length > 0) return `the brokers ${remote.join(",")} are not on this machine`;
  if (!LOCAL_HOSTS.has(new URL(storeUrl).hostname)) return `the store ${storeUrl} is not on this machine`;
  return undefined;
}

/** Consumers a killed run left in a group stay members until their session times out: 30 s here. */
const GROUPS_EMPTY_WITHIN_MS = 45_000;

/** Waits until no group has a member (saying so once), so that they can be deleted and their triggers made again. */
async function untilGroupsEmpty(admin: Admin, groups: string[], log: (line: string) => void): Promise<void> {
  const until = Date.now() + GROUPS_EMPTY_WITHIN_MS;
  let said = false;
  for (;;) {
    const described = await patiently(() => admin.describeGroups(groups));
    const busy = described.groups.filter((group) => group.members.length > 0).map((group) => group.groupId);
    if (busy.length === 0) return;
    if (Date.now() > until) {
      throw new Error(
        `the feed groups ${busy.join(", ")} still have consumers after ${GROUPS_EMPTY_WITHIN_MS / 1000} s: is another npm start running on this stack? Stop it, or npm run stack -- reset`,
      );
    }
    if (!said)
      log(`Waiting for the consumers a stopped run left in ${busy.length} feed group(s) to time out (30 s)...`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

export async function resetSaga(
  admin: Admin,
  cloudant: Cloudant,
  where: { brokers: string[]; storeUrl: string },
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const problem = notLocal(where.brokers, where.storeUrl);
  if (problem) throw new Error(`refusing to delete the saga's topics and databases: ${problem}`);
  const existing = new Set(await patiently(() => admin.listTopics()));
  const topics = TOPICS.map((t) => t.topic).filter((topic) => existing.has(topic));
  if (topics.length > 0) await patiently(() => admin.deleteTopics({ topics, timeout: 30_000 }));
  // Deleted topics disappear from the broker's metadata a moment later; creating them again before fails.
  for (let i = 0; i < 100 && (await admin.listTopics()).some((topic) => topics.includes(topic)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const groups = (await patiently(() => admin.listGroups())).groups.map((g) => g.groupId).filter(isSagaFeedGroup);
  if (groups.length > 0) {
    await untilGroupsEmpty(admin, groups, log);
    await admin.deleteGroups(groups).catch(() => undefined);
  }
  for (const db of DATABASES) await cloudant.deleteDatabase({ db }).catch(() => undefined);
  // The lossless feed's registrations name the triggers of a local OpenWhisk that is gone.
  await cloudant.deleteDatabase({ db: DEFAULT_REGISTRATIONS_DB }).catch(() => undefined);
}
