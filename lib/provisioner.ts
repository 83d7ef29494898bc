// Provisioning: making a Kafka and a CouchDB-compatible store (IBM Event Streams and IBM Cloudant, or the local
// stack) hold what a system of steps needs: topics with their partitions and retention, databases, indexes, and
// where each step's coverage audit starts. Idempotent (what exists is left as it is, and said so); every call rides
// out 429s, 5xx and lost answers (Retry-After honoured); a missing permission is one line saying which and what to
// do; a dry run reads and says what it would change. Domain-free: a system gives its plan.
import type { Admin } from "kafkajs";
import { SagaError, statusOf } from "./errors.ts";
import { messageOf, propertyOf } from "./narrow.ts";
import {
  isTransientKafkaError,
  isTransientStoreError,
  retryWithinDeadline,
  type SweptStep,
  startCoverage,
} from "./step/tools.ts";
import type { Cloudant } from "./store/client.ts";

export interface TopicPlan {
  topic: string;
  partitions: number;
  /** How long records are kept, in ms (retention.ms); the broker's default when absent. */
  retentionMs?: number;
}

export interface IndexPlan {
  ddoc: string;
  name: string;
  fields: string[];
}

export interface ProvisionPlan {
  topics: TopicPlan[];
  databases: { name: string; indexes: IndexPlan[] }[];
  /** Steps whose coverage audit starts at their topics' current ends. */
  coverage: SweptStep[];
}

export type ChangeKind = "created" | "updated" | "unchanged" | "would create" | "would update";

export interface Change {
  what: "topic" | "topic retention" | "database" | "index" | "coverage";
  name: string;
  kind: ChangeKind;
  detail?: string;
}

/** Something provisioning cannot do by itself, said in one line with what to do instead. */
export class ProvisionError extends SagaError {
  override name = "ProvisionError";
}

export interface ProvisionTargets {
  admin: Admin;
  cloudant: Cloudant;
}

export interface ProvisionOptions {
  dryRun?: boolean;
  /** How long one call keeps retrying while the service answers 429, 5xx or not at all. */
  patienceMs?: number;
  log?: (change: Change) => void;
}

/** KafkaJS's TOPIC_RESOURCE: its CommonJS export is not visible to an ES module import. */
const TOPIC_RESOURCE = 2;

const kafkaPermission = (err: unknown) =>
  /AUTHORIZATION_FAILED/.test(String(propertyOf(err, "type") ?? "")) ||
  /not authorized|authorization failed/i.test(messageOf(err));

export async function provision(
  plan: ProvisionPlan,
  targets: ProvisionTargets,
  options: ProvisionOptions = {},
): Promise<Change[]> {
  const changes: Change[] = [];
  const say = (change: Change) => {
    changes.push(change);
    options.log?.(change);
  };
  const patience = options.patienceMs ?? 120_000;
  const kafka = <T>(what: string, call: () => Promise<T>) =>
    retryWithinDeadline(call, {
      deadline: { at: Date.now() + patience, reserveMs: 0 },
      now: Date.now,
      isTransient: (err) => !kafkaPermission(err) && isTransientKafkaError(err),
    }).catch((err: unknown) => {
      if (kafkaPermission(err))
        throw new ProvisionError(
          `Kafka refused to ${what}: the credentials lack the permission (${String(propertyOf(err, "type") ?? messageOf(err))}); give them the Manager role (Event Streams) or ACLs to create topics and alter their configs, or do it by hand`,
        );
      throw err;
    });
  const store = <T>(what: string, call: () => Promise<T>) =>
    retryWithinDeadline(call, {
      deadline: { at: Date.now() + patience, reserveMs: 0 },
      now: Date.now,
      isTransient: isTransientStoreError,
      maxDelayMs: 10_000,
    }).catch((err: unknown) => {
      const status = statusOf(err);
      if (status === 401)
        throw new ProvisionError(
          `the store refused the credentials (401) when trying to ${what}: check CLOUDANT_APIKEY, or CLOUDANT_USERNAME and CLOUDANT_PASSWORD`,
        );
      if (status === 403)
        throw new ProvisionError(
          `the store forbids the credentials to ${what} (403): use an IAM key with the Manager role (Cloudant) or an admin (CouchDB), or do it by hand`,
        );
      throw err;
    });

  await provisionTopics(plan.topics, targets.admin, options.dryRun === true, kafka, say);
  for (const database of plan.databases) {
    await provisionDatabase(database, targets.cloudant, options.dryRun === true, store, say);
  }
  for (const step of plan.coverage) {
    const state = await store(`read ${step.database}`, () =>
      targets.cloudant
        .getDocument({ db: step.database, docId: `coverage:${step.name}` })
        .then(() => true)
        .catch((err: unknown) => (statusOf(err) === 404 ? false : Promise.reject(err))),
    );
    if (state) say({ what: "coverage", name: step.name, kind: "unchanged", detail: "the audit has started" });
    else if (options.dryRun)
      say({ what: "coverage", name: step.name, kind: "would create", detail: "start at the topics' ends" });
    else {
      await kafka("read topic offsets", () =>
        store("write the coverage start", () => startCoverage(step, targets.cloudant, targets.admin)),
      );
      say({ what: "coverage", name: step.name, kind: "created", detail: "starts at the topics' ends" });
    }
  }
  return changes;
}

type Call = <T>(what: string, call: () => Promise<T>) => Promise<T>;

async function provisionTopics(
  topics: TopicPlan[],
  admin: Admin,
  dryRun: boolean,
  kafka: Call,
  say: (change: Change) => void,
): Promise<void> {
  const existing = new Set(await kafka("list topics", () => admin.listTopics()));
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length > 0 && !dryRun) {
    await kafka("create topics", () =>
      admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: -1,
          ...(t.retentionMs ? { configEntries: [{ name: "retention.ms", value: String(t.retentionMs) }] } : {}),
        })),
      }),
    );
  }
  for (const t of missing) {
    const retention = t.retentionMs ? `, retention ${t.retentionMs / 86_400_000} days` : "";
    say({
      what: "topic",
      name: t.topic,
      kind: dryRun ? "would create" : "created",
      detail: `${t.partitions} partitions${retention}`,
    });
  }
  const present = topics.filter((t) => existing.has(t.topic));
  if (present.length === 0) return;
  const metadata = await kafka("read topic metadata", () =>
    admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) }),
  );
  const configs = await kafka("read topic configs", () =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({
        type: TOPIC_RESOURCE,
        name: t.topic,
        configNames: ["retention.ms"],
      })),
    }),
  );
  for (const t of present) {
    const partitions = metadata.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
    if (partitions < t.partitions) {
      // More partitions would move keys to other partitions: one entity's events would lose their order.
      throw new ProvisionError(
        `topic ${t.topic} has ${partitions} partitions, ${t.partitions} wanted: adding partitions would reorder each entity's events; create it again (empty) or change the plan`,
      );
    }
    say({ what: "topic", name: t.topic, kind: "unchanged", detail: `${partitions} partitions` });
    if (!t.retentionMs) continue;
    const current = configs.resources
      .find((r) => r.resourceName === t.topic)
      ?.configEntries.find((e) => e.configName === "retention.ms")?.configValue;
    if (current === String(t.retentionMs)) {
      say({ what: "topic retention", name: t.topic, kind: "unchanged", detail: `${t.retentionMs} ms` });
      continue;
    }
    if (!dryRun) {
      await kafka("alter topic configs", () =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: TOPIC_RESOURCE,
              name: t.topic,
              configEntries: [{ name: "retention.ms", value: String(t.retentionMs) }],
            },
          ],
        }),
      );
    }
    say({
      what: "topic retention",
      name: t.topic,
      kind: dryRun ? "would update" : "updated",
      detail: `${current ?? "default"} -> ${t.retentionMs} ms`,
    });
  }
}

async function provisionDatabase(
  database: ProvisionPlan["databases"][number],
  cloudant: Cloudant,
  dryRun: boolean,
  store: Call,
  say: (change: Change) => void,
): Promise<void> {
  const exists = await store(`read database ${database.name}`, () =>
    cloudant
      .getDatabaseInformation({ db: database.name })
      .then(() => true)
      .catch((err: unknown) => (statusOf(err) === 404 ? false : Promise.reject(err))),
  );
  if (!exists) {
    if (!dryRun) {
      await store(`create database ${database.name}`, () =>
        cloudant.putDatabase({ db: database.name }).catch((err: unknown) => {
          if (statusOf(err) !== 412) throw err; // created meanwhile (a lost answer): fine
        }),
      );
    }
    say({ what: "database", name: database.name, kind: dryRun ? "would create" : "created" });
  } else say({ what: "database", name: database.name, kind: "unchanged" });
  const indexes = exists
    ? await store(`list the indexes of ${database.name}`, () => cloudant.getIndexesInformation({ db: database.name }))
    : undefined;
  for (const index of database.indexes) {
    const name = `${database.name}/${index.ddoc}/${index.name}`;
    const known = indexes?.result.indexes?.some((i) => i.ddoc === `_design/${index.ddoc}` && i.name === index.name);
    if (known) {
      say({ what: "index", name, kind: "unchanged" });
      continue;
    }
    if (!dryRun) {
      await store(`create index ${name}`, () =>
        cloudant.postIndex({
          db: database.name,
          ddoc: index.ddoc,
          name: index.name,
          index: { fields: index.fields.map((field): Record<string, "asc"> => ({ [field]: "asc" })) },
          type: "json",
        }),
      );
    }
    say({ what: "index", name, kind: dryRun ? "would create" : "created", detail: index.fields.join(", ") });
  }
}
