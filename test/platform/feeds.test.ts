// The built-in feeds against the real Kafka of the local stack, through the openwhisk client only.

import test from "ava";
import type { Admin, Producer } from "kafkajs";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { kafkaSettings, testKafka, uniqueName } from "../support/services.ts";
import { activationsOf, eventually, type FeedActivation, feedTrigger, type Started, startOw } from "./helpers.ts";

const KAFKA = "/whisk.system/messaging/kafkaFeed";
const FAST = { kafkaBatchMs: 400, kafkaPollMs: 250, kafkaRetryScale: 0.005 };
const brokers = () => kafkaSettings().brokers.join(",");

async function withKafka(
  t: import("ava").ExecutionContext,
  partitions = 1,
): Promise<{ topic: string; admin: Admin; producer: Producer }> {
  const kafka = testKafka();
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  t.teardown(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });
  const topic = uniqueName("platform-test-feed");
  await ensureTopics(admin, [{ topic, partitions }]);
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => {}));
  return { topic, admin, producer };
}

/** A trigger on the Kafka feed that reads the test's topic from the local broker. */
const kafkaTrigger = (s: Started, name: string, topic: string, params: Record<string, unknown> = {}) =>
  feedTrigger(s, name, KAFKA, { topic, brokers: brokers(), ...params });

test("kafka feed: the action sees the feed's exact payload, value and key encodings included", async (t) => {
  const { topic, producer } = await withKafka(t);
  const s = await startOw(t, { feeds: FAST });
  await s.client.actions.create({ name: "json", action: "function main(p) { return { messages: p.messages }; }" });
  await s.client.actions.create({ name: "binary", action: "function main(p) { return { messages: p.messages }; }" });
  await kafkaTrigger(s, "json-t", topic, { isJSONData: true });
  await feedTrigger(s, "bin-t", KAFKA, {
    topic,
    brokers: brokers().split(","),
    isBinaryKey: true,
    isBinaryValue: true,
  });
  await s.client.rules.create({ name: "json-r", trigger: "json-t", action: "json" });
  await s.client.rules.create({ name: "bin-r", trigger: "bin-t", action: "binary" });
  const long = Buffer.alloc(100, 7);
  await producer.send({
    topic,
    messages: [
      { key: "k1", value: JSON.stringify({ id: 1, text: "é" }) },
      { key: null, value: "not json" },
      { key: Buffer.from([0xff, 0x00]), value: long },
    ],
  });
  const [json] = await eventually(async () => {
    const list = await activationsOf(s, "json");
    return list.length > 0 ? list : undefined;
  });
  t.deepEqual(json!.response.result.messages, [
    { value: { id: 1, text: "é" }, topic, partition: 0, offset: 0, key: "k1" },
    { value: '"not json"', topic, partition: 0, offset: 1, key: null },
    { value: `"${long.toString("utf8")}"`, topic, partition: 0, offset: 2, key: "\ufffd\u0000" },
  ]);
  const [binary] = await eventually(async () => {
    const list = await activationsOf(s, "binary");
    return list.length > 0 ? list : undefined;
  });
  const b64 = long.toString("base64");
  t.deepEqual(binary!.response.result.messages, [
    {
      value: Buffer.from(JSON.stringify({ id: 1, text: "é" })).toString("base64"),
      topic,
      partition: 0,
      offset: 0,
      key: "azE=",
    },
    { value: Buffer.from("not json").toString("base64"), topic, partition: 0, offset: 1, key: null },
    { value: `${b64.slice(0, 76)}\n${b64.slice(76)}`, topic, partition: 0, offset: 2, key: "/wA=" },
  ]);
  const read = (await s.feeds.get({ feedName: KAFKA, trigger: "json-t" })) as {
    response: { result: { config: Record<string, unknown>; status: { active: boolean } } };
  };
  t.is(read.response.result.config.topic, topic);
  t.is(read.response.result.status.active, true);
  const refused = await s.feeds
    .create({
      feedName: KAFKA,
      trigger: "json-t",
      params: { topic, brokers: brokers(), isJSONData: true, isBinaryValue: true },
    })
    .then(
      () => undefined,
      (err: { statusCode: number; error: FeedActivation }) => err,
    );
  t.is(refused?.statusCode, 502);
  t.is(refused?.error.response.result.error, "isJSONData and isBinaryValue cannot both be enabled.");
});

test("kafka feed: offsets are committed when the fire is accepted, so a failing action's messages are not delivered again", async (t) => {
  const { topic, producer, admin } = await withKafka(t);
  const s = await startOw(t, { feeds: FAST });
  await s.client.actions.create({
    name: "fails",
    action: "function main(p) { return { error: 'cannot handle', offsets: p.messages.map((m) => m.offset) }; }",
  });
  await kafkaTrigger(s, "t", topic);
  await s.client.rules.create({ name: "r", trigger: "t", action: "fails" });
  await producer.send({ topic, messages: [{ value: "a" }, { value: "b" }] });
  const first = await eventually(async () => {
    const list = await activationsOf(s, "fails");
    return list.length > 0 ? list : undefined;
  });
  t.is(first[0]!.response.status, "application error");
  t.deepEqual(first[0]!.response.result.offsets, [0, 1]);
  const committed = await eventually(async () => {
    const [group] = await admin.fetchOffsets({ groupId: "/guest/t", topics: [topic] });
    const offset = group?.partitions[0]?.offset;
    return offset === "2" ? offset : undefined;
  });
  t.is(committed, "2");
  // The provider restarts its consumer on UPDATE: it resumes from the committed offset.
  await s.feeds.update({
    feedName: KAFKA,
    trigger: "t",
    params: { isJSONData: false },
  });
  await producer.send({ topic, messages: [{ value: "c" }] });
  const all = await eventually(async () => {
    const list = await activationsOf(s, "fails");
    return list.length > 1 ? list : undefined;
  });
  await new Promise((r) => setTimeout(r, 800));
  const final = await activationsOf(s, "fails");
  t.is(final.length, 2);
  t.deepEqual(all[1]!.response.result.offsets, [2]);
});

test("kafka feed: a fire refused with 429 is retried, then skipped and committed; a 413 disables the trigger", async (t) => {
  const { topic, producer, admin } = await withKafka(t);
  const s = await startOw(t, { feeds: FAST, limits: { firesPerMinute: 0 } });
  await kafkaTrigger(s, "throttled", topic);
  await producer.send({ topic, messages: [{ value: "x" }] });
  await eventually(async () => {
    const [group] = await admin.fetchOffsets({ groupId: "/guest/throttled", topics: [topic] });
    return group?.partitions[0]?.offset === "1" ? true : undefined;
  });
  const read = await s.feeds.get({ feedName: KAFKA, trigger: "throttled" });
  t.true((read.response.result.status as { active: boolean }).active, "throttling does not disable the trigger");

  // Any other 4xx disables the trigger: a fire body over the controller's limit gets 413.
  s.ow.platform.options.limits.firesPerMinute = 1000;
  s.ow.platform.options.limits.payloadBytes = 50;
  await producer.send({ topic, messages: [{ value: "y".repeat(100) }] });
  await eventually(async () => (s.kafkaFeed.get("/guest/throttled")?.status.active === false ? true : undefined));
  s.ow.platform.options.limits.payloadBytes = 1_048_576;
  const read2 = await s.feeds.get({ feedName: KAFKA, trigger: "throttled" });
  const status = (read2.response.result as { status: { active: boolean; reason?: { statusCode: number } } }).status;
  t.false(status.active);
  t.is(status.reason?.statusCode, 413);
  const [group] = await admin.fetchOffsets({ groupId: "/guest/throttled", topics: [topic] });
  t.is(group?.partitions[0]?.offset, "1", "the refused batch is not committed");
  // Upstream refuses to update a disabled trigger, with this message.
  const update = await s.feeds.update({ feedName: KAFKA, trigger: "throttled", params: { isBinaryKey: true } }).then(
    () => undefined,
    (err: { error: FeedActivation }) => err.error.response.result.error,
  );
  t.is(update, "/guest/throttled cannot be updated because it is disabled");
});

test("kafka feed: a null value with isJSONData=true stalls that trigger for good; without isJSONData it arrives as null", async (t) => {
  const { topic, producer, admin } = await withKafka(t);
  const s = await startOw(t, { feeds: FAST });
  // Trigger names differ from the other tests': the consumer group is the trigger's /ns/name, shared in Kafka.
  const echo = "function main(p) { return { messages: p.messages }; }";
  await s.client.actions.create({ name: "as-json", action: echo });
  await s.client.actions.create({ name: "as-text", action: echo });
  await kafkaTrigger(s, "tomb-json-t", topic, { isJSONData: true });
  await kafkaTrigger(s, "tomb-text-t", topic);
  await s.client.rules.create({ name: "tomb-json-r", trigger: "tomb-json-t", action: "as-json" });
  await s.client.rules.create({ name: "tomb-text-r", trigger: "tomb-text-t", action: "as-text" });
  const delivered = async (action: string, count: number) =>
    eventually(async () => {
      const list = await activationsOf(s, action);
      const messages = list.flatMap((a) => a.response.result.messages as unknown[]);
      return messages.length >= count ? messages : undefined;
    }, 15_000);
  const committed = async (group: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsets?.partitions[0]?.offset;
  };

  // Both consumers run and deliver: a record before the tombstone reaches both triggers and is committed.
  await producer.send({ topic, messages: [{ key: "k", value: JSON.stringify({ n: 1 }) }] });
  t.deepEqual(await delivered("as-json", 1), [{ value: { n: 1 }, topic, partition: 0, offset: 0, key: "k" }]);
  await eventually(async () => ((await committed("/guest/tomb-json-t")) === "1" ? true : undefined));

  await producer.send({ topic, messages: [{ key: "gone", value: null }, { value: JSON.stringify({ n: 2 }) }] });
  await producer.send({ topic, messages: [{ value: JSON.stringify({ n: 3 }) }] });
  const text = await delivered("as-text", 4);
  t.deepEqual(text, [
    { value: '{"n":1}', topic, partition: 0, offset: 0, key: "k" },
    { value: null, topic, partition: 0, offset: 1, key: "gone" },
    { value: '{"n":2}', topic, partition: 0, offset: 2, key: null },
    { value: '{"n":3}', topic, partition: 0, offset: 3, key: null },
  ]);
  await eventually(async () => ((await committed("/guest/tomb-text-t")) === "4" ? true : undefined));

  // The provider's consumer crashes on the tombstone and, restarted from the committed offset, crashes again:
  // the JSON trigger never fires again and commits nothing, while its feed still reads as active.
  await new Promise((r) => setTimeout(r, 2_000));
  t.is((await activationsOf(s, "as-json")).length, 1, "nothing after the tombstone reaches the JSON trigger");
  t.is(await committed("/guest/tomb-json-t"), "1");
  const read = await s.feeds.get({ feedName: KAFKA, trigger: "tomb-json-t" });
  t.true((read.response.result.status as { active: boolean }).active);
});

test("alarm feed: a cron alarm fires its trigger with trigger_payload until the feed is deleted", async (t) => {
  const s = await startOw(t);
  await s.client.actions.create({ name: "tick", action: "function main(p) { return { hello: p.hello }; }" });
  await feedTrigger(s, "every-second", "/whisk.system/alarms/alarm", {
    cron: "* * * * * *",
    trigger_payload: { hello: "alarm" },
  });
  await s.client.rules.create({ name: "r", trigger: "every-second", action: "tick" });
  const fired = await eventually(async () => {
    const list = await activationsOf(s, "tick");
    return list.length > 0 ? list : undefined;
  }, 5_000);
  t.deepEqual(fired[0]!.response.result, { hello: "alarm" });
  const read = (await s.feeds.get({ feedName: "/whisk.system/alarms/alarm", trigger: "every-second" })) as {
    response: { result: { config: { cron: string } } };
  };
  t.is(read.response.result.config.cron, "* * * * * *");
  await s.feeds.delete({ feedName: "/whisk.system/alarms/alarm", trigger: "every-second" });
  const settled = (await activationsOf(s, "tick")).length;
  await new Promise((r) => setTimeout(r, 1_500));
  t.true((await activationsOf(s, "tick")).length <= settled + 1);
  const bad = await s.feeds
    .create({ feedName: "/whisk.system/alarms/alarm", trigger: "every-second", params: { cron: "not a cron" } })
    .then(
      () => undefined,
      (err: { error: FeedActivation }) => err.error.response.result.error,
    );
  t.is(bad, "cron pattern 'not a cron' is not valid");
});
