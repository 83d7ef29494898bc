// The two Kafka feeds as apache/openwhisk-package-kafka installs them, through the real openwhisk client: every
// refusal upstream makes with upstream's message, and messageHubFeed end to end on the stack's broker as IBM Event
// Streams (the admin API's check, then SASL_SSL with user "token").

import test from "ava";
import { eventStreamsEnv, kafkaSettings, scratchTopic, testKafka } from "../support/services.ts";
import { activationsOf, eventually, feedTrigger, type Started, startOw } from "./helpers.ts";

const FAST = { kafkaBatchMs: 300, kafkaPollMs: 200, kafkaRetryScale: 0.005 };
const MESSAGE_HUB = "/whisk.system/messaging/messageHubFeed";
const KAFKA = "/whisk.system/messaging/kafkaFeed";

/** The feed action's answer to a lifecycle event, as `wsk` and serverless see it: the result or its `error`. */
async function lifecycle(s: Started, feed: string, trigger: string, event: string, params: Record<string, unknown>) {
  const [, , pkg, name] = feed.split("/");
  return s.client.actions
    .invoke({
      name: `/whisk.system/${pkg}/${name}`,
      blocking: true,
      result: true,
      params: { lifecycleEvent: event, triggerName: `/_/${trigger}`, authKey: s.ow.auth, ...params },
    })
    .then(
      (result) => result as Record<string, unknown>,
      (err: { error?: { response?: { result?: Record<string, unknown> } } }) => err.error?.response?.result ?? {},
    );
}

function eventStreams() {
  const env = eventStreamsEnv();
  return {
    kafka_brokers_sasl: env.KAFKA_BROKERS,
    user: env.KAFKA_SASL_USER,
    password: env.KAFKA_SASL_PASSWORD,
    kafka_admin_url: env.KAFKA_ADMIN_URL,
    ca: env.KAFKA_CA,
  };
}

test("both feeds refuse what upstream refuses, with upstream's messages", async (t) => {
  const topic = await scratchTopic(t, "feed-rules");
  const s = await startOw(t, { feeds: FAST });
  await s.client.triggers.create({ name: "t" });
  const brokers = kafkaSettings().brokers.join(",");
  const hub = {
    topic,
    kafka_brokers_sasl: brokers,
    user: "token",
    password: "x",
    kafka_admin_url: "http://127.0.0.1:1",
  };
  const cases: [string, Record<string, unknown>, string][] = [
    [KAFKA, { brokers }, "You must supply a 'topic' parameter."],
    [KAFKA, { topic }, "You must supply a 'brokers' parameter."],
    [KAFKA, { topic, brokers: [] }, "You must supply a 'brokers' parameter as an array of Message Hub brokers."],
    [
      KAFKA,
      { topic, brokers, isJSONData: true, isBinaryValue: "true" },
      "isJSONData and isBinaryValue cannot both be enabled.",
    ],
    [MESSAGE_HUB, { ...hub, kafka_brokers_sasl: undefined }, "You must supply a 'kafka_brokers_sasl' parameter."],
    [MESSAGE_HUB, { ...hub, user: "" }, "You must supply a 'user' parameter to authenticate with Message Hub."],
    [
      MESSAGE_HUB,
      { ...hub, password: undefined },
      "You must supply a 'password' parameter to authenticate with Message Hub.",
    ],
    [MESSAGE_HUB, { ...hub, kafka_admin_url: undefined }, "You must supply a 'kafka_admin_url' parameter."],
  ];
  for (const [feed, params, message] of cases) {
    t.deepEqual(
      await lifecycle(s, feed, "t", "CREATE", params),
      { error: message },
      `${feed} ${JSON.stringify(params)}`,
    );
  }
  t.deepEqual(await lifecycle(s, KAFKA, "t", "CREATE", { topic, brokers, authKey: "nobody:nokey" }), {
    error: "You are not authorized for this trigger.",
  });
  t.deepEqual(
    await lifecycle(s, KAFKA, "absent", "READ", {}),
    { error: "[object Object]" },
    "READ of a trigger the key cannot read",
  );
  t.deepEqual(
    await lifecycle(s, KAFKA, "t", "READ", {}),
    { error: "Error: missing" },
    "READ of a trigger with no feed",
  );
  t.deepEqual(await lifecycle(s, KAFKA, "t", "DELETE", {}), { error: "Error: missing" });
  t.deepEqual(await lifecycle(s, KAFKA, "t", "PAUSE", {}), { error: "unsupported lifecycleEvent" });

  await feedTrigger(s, "t2", KAFKA, { topic, brokers });
  t.deepEqual(await lifecycle(s, KAFKA, "t2", "UPDATE", { topic: "other" }), {
    error: "At least one of isJsonData, isBinaryKey, or isBinaryValue must be supplied.",
  });
  t.deepEqual(await lifecycle(s, KAFKA, "t2", "UPDATE", { isJSONData: true, isBinaryValue: true }), {
    error: "isJSONData and isBinaryValue cannot both be enabled.",
  });
  const again = await lifecycle(s, KAFKA, "t2", "CREATE", { topic, brokers });
  t.regex(String(again.uuid), /^[0-9a-f-]{36}$/, "a trigger created again is not refused: it gets a new feed");
  const read = await lifecycle(s, KAFKA, "t2", "READ", {});
  t.deepEqual(Object.keys((read as { config: object }).config).sort(), [
    "brokers",
    "isBinaryKey",
    "isBinaryValue",
    "isJSONData",
    "topic",
    "triggerName",
  ]);
});

test("messageHubFeed on the broker as Event Streams: the admin API's check, then SASL_SSL", async (t) => {
  const topic = await scratchTopic(t, "feed-rules");
  const hub = eventStreams();
  const s = await startOw(t, { feeds: { ...FAST, kafkaCa: hub.ca } });
  await s.client.triggers.create({ name: "t" });
  const params = { topic, kafka_brokers_sasl: hub.kafka_brokers_sasl, user: hub.user, password: hub.password };
  const admin = hub.kafka_admin_url;
  t.deepEqual(
    await lifecycle(s, MESSAGE_HUB, "t", "CREATE", { ...params, password: "wrong", kafka_admin_url: admin }),
    {
      error: "Could not authenticate with Message Hub. Please check your credentials.",
    },
  );
  t.deepEqual(await lifecycle(s, MESSAGE_HUB, "t", "CREATE", { ...params, topic: "nope", kafka_admin_url: admin }), {
    error: "Topic does not exist. You must create the topic first: nope",
  });

  await s.client.actions.create({
    name: "echo",
    action: "function main(p) { return { values: p.messages.map((m) => m.value) }; }",
  });
  await feedTrigger(s, "hub-t", MESSAGE_HUB, { ...params, kafka_admin_url: admin });
  await s.client.rules.create({ name: "hub-r", trigger: "hub-t", action: "echo" });
  const producer = testKafka().producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic, messages: [{ value: "through SASL_SSL" }] });
  const [activation] = await eventually(async () => {
    const list = await activationsOf(s, "echo");
    return list.length > 0 ? list : undefined;
  }, 30_000);
  t.deepEqual(activation?.response.result, { values: ["through SASL_SSL"] });
  const read = (await lifecycle(s, MESSAGE_HUB, "hub-t", "READ", {})) as { config: Record<string, unknown> };
  t.like(read.config, { topic, kafka_admin_url: admin, user: "token" });
});
