// A feed's CREATE after a killed provider: the dead process's consumers stay members of the trigger's group until
// their session times out, and Kafka refuses to set a group's offsets while it has members. pinLatest waits them out
// (saying so once), then pins the group at the topic's end. The consumer is a real process, SIGKILLed.
import { spawn } from "node:child_process";
import test from "ava";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { pinLatest } from "../../lib/kafka/offsets.ts";
import { kafkaSettings, testKafka, uniqueName } from "../support/services.ts";

const MEMBER = `
import { Kafka, logLevel } from "kafkajs";
const [brokers, groupId, topic] = process.argv.slice(1);
const consumer = new Kafka({ brokers: brokers.split(","), logLevel: logLevel.NOTHING }).consumer({ groupId });
await consumer.connect();
consumer.on(consumer.events.GROUP_JOIN, () => console.log("joined"));
await consumer.subscribe({ topic });
await consumer.run({ eachMessage: async () => {} });
`;

test("CREATE right after a provider was killed: pinLatest waits for its consumers to time out, then pins the group", async (t) => {
  t.timeout(120_000);
  const topic = uniqueName("pin");
  const group = `/guest/${uniqueName("trigger")}`;
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, [{ topic, partitions: 2 }]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: "before" }, { value: "before" }] });
  await producer.disconnect();

  const member = spawn(
    process.execPath,
    ["--input-type=module", "-e", MEMBER, kafkaSettings().brokers.join(","), group, topic],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    member.stdout?.on("data", (chunk) => String(chunk).includes("joined") && resolve());
    member.on("exit", () => reject(new Error("the member exited before joining")));
  });
  member.kill("SIGKILL");
  const [described] = (await admin.describeGroups([group])).groups;
  t.true((described?.members.length ?? 0) > 0, "the killed consumer is still a member");

  const said: string[] = [];
  const started = Date.now();
  await pinLatest(kafka, group, topic, (line) => said.push(line));
  t.log(`pinned after ${Date.now() - started} ms`);
  t.deepEqual(said, [`${group}: waiting for consumers a stopped process left in the group to time out (30 s)`]);
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  t.deepEqual(
    committed?.partitions.map((p) => [p.partition, p.offset]).sort(),
    ends.map((p) => [p.partition, p.high]).sort(),
    "the group starts at the topic's end as of CREATE",
  );
});
