// npm start: runs the system on the local stack. For now: the stack, the topics and databases, and a check that
// each answers. Ctrl-C stops what this command started.
import { DATABASES, TOPICS } from "../functions/topology.ts";
import { createKafka, ensureTopics } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../lib/kafka/config.ts";
import { createCloudant, ensureDatabase } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../lib/store/config.ts";
import { clientEnv, readState, StackError, stackDown, stackUp } from "./stack/stack.ts";

async function provision(env: Record<string, string>): Promise<void> {
  const kafka = createKafka(requireKafkaSettings(kafkaSettingsFromEnv(env, "start")));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, TOPICS);
    const metadata = await admin.fetchTopicMetadata({ topics: TOPICS.map((t) => t.topic) });
    for (const topic of metadata.topics) {
      const leaders = new Set(topic.partitions.map((p) => p.leader));
      console.log(
        `  topic ${topic.name.padEnd(20)} ${topic.partitions.length} partitions, leader(s) ${[...leaders].join(",")}`,
      );
    }
  } finally {
    await admin.disconnect();
  }
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(env)));
  for (const db of DATABASES) {
    const created = await ensureDatabase(cloudant, db);
    const info = await cloudant.getDatabaseInformation({ db });
    console.log(`  database ${db.padEnd(17)} ${created}, ${info.result.docCount} documents`);
  }
}

async function main(): Promise<void> {
  const startedBefore = readState() !== undefined;
  const state = await stackUp();
  const env = clientEnv(state);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (!startedBefore) await stackDown();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  try {
    console.log("Provisioning:");
    await provision(env);
  } catch (err) {
    console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
  console.log(`\nThe stack answers: Kafka on ${env.KAFKA_BROKERS}, CouchDB API on ${env.CLOUDANT_URL}.`);
  if (process.argv.includes("--once")) return stop(0);
  console.log("Running. Press Ctrl-C to stop everything this command started.");
  setInterval(() => undefined, 60_000); // stay in the foreground until a signal
}

main().catch((err: unknown) => {
  console.error(err instanceof StackError ? `stack: ${err.message}` : err);
  process.exit(1);
});
