// Connections to the real services the tests run against. npm test starts the local stack and sets the
// environment; run alone, a test fails with the reason instead of skipping.
import { randomBytes } from "node:crypto";
import type { ExecutionContext } from "ava";
import { createKafka, ensureTopics } from "../../lib/kafka/client.ts";
import { type KafkaSettings, kafkaSettingsFromEnv } from "../../lib/kafka/config.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { type StoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";

const HOW = "run the tests with `npm test`, which starts the local stack, or set it to a running service";

export function kafkaSettings(): KafkaSettings {
  const settings = kafkaSettingsFromEnv(process.env, "tests");
  if (!settings) throw new Error(`KAFKA_BROKERS is not set: ${HOW}`);
  return settings;
}

export function storeSettings(): StoreSettings {
  const settings = storeSettingsFromEnv();
  if (!settings) throw new Error(`CLOUDANT_URL is not set: ${HOW}`);
  return settings;
}

/** The store as a deploy's environment names it: CLOUDANT_URL and its credentials (the stack's admin). */
export function storeEnv(): Record<string, string> {
  storeSettings();
  const names = ["CLOUDANT_URL", "CLOUDANT_APIKEY", "CLOUDANT_IAM_URL", "CLOUDANT_USERNAME", "CLOUDANT_PASSWORD"];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])));
}

/** The Authorization header of the store's credentials, for requests the Cloudant client cannot make. */
export function storeAuthHeader(): Record<string, string> {
  const { auth } = storeSettings();
  if (auth.kind !== "basic") return {};
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
}

export const testKafka = () => createKafka(kafkaSettings());
export const testCloudant = () => createCloudant(storeSettings());

/** A name no other test or earlier run uses: topics, groups and databases are never shared between tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** A database name of this test's own, deleted when the test ends: created by the test or by what it runs. */
export function scratchDatabase(t: ExecutionContext, prefix: string): string {
  const db = uniqueName(prefix);
  t.teardown(() => dropDatabase(db));
  return db;
}

/** A one-partition topic of this test's own, deleted when the test ends. */
export async function scratchTopic(t: ExecutionContext, prefix: string): Promise<string> {
  const admin = testKafka().admin();
  await admin.connect();
  const topic = uniqueName(prefix);
  t.teardown(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });
  await ensureTopics(admin, [{ topic, partitions: 1 }]);
  return topic;
}

/** Deletes a test's database, if it is there. */
export const dropDatabase = (db: string): Promise<void> =>
  testCloudant()
    .deleteDatabase({ db })
    .then(
      () => undefined,
      () => undefined,
    );

/**
 * The stack's broker as IBM Event Streams (SASL_SSL, user "token", the admin API), in the environment a deploy
 * uses: KAFKA_BROKERS, KAFKA_SASL_USER, KAFKA_SASL_PASSWORD, KAFKA_CA, KAFKA_ADMIN_URL and KAFKA_FEED=messageHubFeed.
 */
export function eventStreamsEnv(): Record<string, string> {
  const prefix = "EVENT_STREAMS_";
  const env = Object.fromEntries(
    Object.entries(process.env)
      .filter(([key, value]) => key.startsWith(prefix) && value !== undefined)
      .map(([key, value]) => [key.slice(prefix.length), value as string]),
  );
  if (!env.KAFKA_BROKERS)
    throw new Error(`EVENT_STREAMS_KAFKA_BROKERS is not set: ${HOW} (one whose broker npm test started)`);
  return env;
}
