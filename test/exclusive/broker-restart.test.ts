// The producing side across a broker restart of 15 s: the simulator and the relay keep trying within their
// budgets and lose nothing. (The operator's web actions answer 503 with the request recorded, and the relay
// publishes it: test/e2e/operator.test.ts.) The broker is the stack's own, restarted for real.
import test from "ava";
import { defineOutboxRelay } from "../../lib/step/index.ts";
import { DEFAULTS } from "../../scripts/simulator/options.ts";
import { simulate } from "../../scripts/simulator/run.ts";
import { restartKafka } from "../../scripts/stack/lifecycle.ts";
import { uniqueName } from "../support/services.ts";
import { feedParams, killedAfterWrite, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

test("the simulator and the relay ride out a broker that is down for 15 s, and nothing is lost", async (t) => {
  t.timeout(300_000);
  const world = await stepWorld(t);
  // An outbox left by an activation that died after its write, for the relay to publish during the outage.
  const step = tallyStep(world.names);
  await t.throwsAsync(step.run(feedParams(world.names.in, [tallyAdded("left", 3)]), killedAfterWrite(world)));
  const topics = { topicAssets: world.names.out, topicMetrics: world.names.in };
  const lines: string[] = [];
  const options = { ...DEFAULTS, ...topics, pumps: 5, rate: 20, seconds: 30, seed: uniqueName("restart") };
  const simulation = simulate(options, { producer: world.producer, log: (line) => lines.push(line) });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const restart = restartKafka(15_000, (line) => t.log(line));
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const relay = defineOutboxRelay({ name: "test-relay", databases: [world.names.database], graceMs: 0 });
  const relayed = relay.run(world.relayIO({ deadline: Date.now() + 60_000 })) as Promise<{
    databases: { published: number; error?: string }[];
  }>;
  await restart;
  const report = await simulation;
  t.false(report.interrupted);
  t.true(
    lines.some((line) => /Kafka does not answer/.test(line)),
    lines.join("\n"),
  );
  const readings = values(await readTopic(world.names.in, { atLeast: 600, timeoutMs: 60_000 }));
  const ids = new Set(readings.filter((r) => r.type === "pump.metric.reported").map((r) => r.id));
  t.is(ids.size, 600, "every reading arrived (some twice, from a retried send)");
  const outcome = await relayed;
  t.is(outcome.databases[0]?.error, undefined);
  t.is(outcome.databases[0]?.published, 1, "the relay published the outbox once the broker was back");
  const out = values(await readTopic(world.names.out, { atLeast: 1 }));
  t.true(out.some((e) => e.subject === "left"));
});
