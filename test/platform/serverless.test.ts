// End to end: the real `serverless deploy` and `serverless remove` (serverless@3 + serverless-openwhisk 0.18.4 with
// this project's patch) against the local OpenWhisk; a Kafka record and an alarm reach the deployed actions.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { serverlessEnv } from "../../scripts/saga/deploy.ts";
import { kafkaSettings, scratchTopic, testKafka } from "../support/services.ts";
import { eventually, startOw } from "./helpers.ts";

const run = promisify(execFile);
const SERVICE = join(process.cwd(), "test/fixtures/sls-service");
const SLS = join(process.cwd(), "node_modules/serverless/bin/serverless.js");

type Activation = { response: { status: string; result: { received: Record<string, unknown> } } };

test("serverless deploy binds the Kafka and alarm feeds; records and ticks reach the actions; remove unbinds", async (t) => {
  t.timeout(180_000);
  const topic = await scratchTopic(t, "platform-test-sls");
  const producer = testKafka().producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const s = await startOw(t, { feeds: { kafkaBatchMs: 400, kafkaPollMs: 250 } });
  const env = serverlessEnv(
    { apiHost: s.ow.apiHost, auth: s.ow.auth },
    { E2E_TOPIC: topic, KAFKA_BROKERS: kafkaSettings().brokers.join(",") },
  );
  const sls = (command: string) => run(process.execPath, [SLS, command], { cwd: SERVICE, env, timeout: 120_000 });
  const deployed = await sls("deploy");
  t.log(
    deployed.stdout
      .split("\n")
      .filter((l) => /Deploying|Binding|Deployed/.test(l))
      .join("\n"),
  );

  t.truthy(s.kafkaFeed.get("/guest/e2e-kafka"), "the Kafka feed is bound to its trigger");
  const trigger = await s.client.triggers.get({ name: "e2e-tick" });
  t.deepEqual(trigger.parameters, [{ key: "fromTrigger", value: true }], "trigger parameters are kept");
  const rules = (await s.client.rules.list()) as Array<{ name: string }>;
  t.is(rules.length, 2);

  await producer.send({ topic, messages: [{ key: "k", value: JSON.stringify({ hello: "kafka" }) }] });
  const onMessage = await eventually(async () => {
    const list = (await s.client.activations.list({ name: "e2e/on-message", docs: true })) as unknown as Activation[];
    return list[0];
  }, 15_000);
  t.deepEqual(onMessage.response.result.received, {
    fromPackage: true,
    messages: [{ value: { hello: "kafka" }, topic, partition: 0, offset: 0, key: "k" }],
  });
  const onTick = await eventually(async () => {
    const list = (await s.client.activations.list({ name: "e2e/on-tick", docs: true })) as unknown as Activation[];
    return list[0];
  }, 15_000);
  t.deepEqual(onTick.response.result.received, { fromPackage: true, fromTrigger: true, tick: true });

  await sls("remove");
  t.is(s.kafkaFeed.get("/guest/e2e-kafka"), undefined, "remove deletes the feed");
  t.deepEqual(await s.client.actions.list(), []);
  t.deepEqual(await s.client.triggers.list(), []);
});
