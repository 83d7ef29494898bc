// The simulator against the real Kafka from KAFKA_BROKERS, on topics of its own (sim-test-*).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { catalog } from "../../functions/events.ts";
import { createIdempotentProducer, ensureTopics } from "../../lib/kafka/client.ts";
import { NO_BROKERS } from "../../scripts/cli.ts";
import { planFleet, readingEvent, registrationEvent } from "../../scripts/simulator/fleet.ts";
import { DEFAULTS, type SimulateOptions } from "../../scripts/simulator/options.ts";
import { simulate, simulatorTopics } from "../../scripts/simulator/run.ts";
import { runScript } from "../support/run-script.ts";
import { kafkaSettings, testKafka, uniqueName } from "../support/services.ts";
import { type ReadRecord, readTopic } from "../support/topic-reader.ts";

const SEED = "integration";

async function topicsFor(t: { teardown(fn: () => unknown): void }) {
  const name = uniqueName("sim-test");
  const options = { topicAssets: `${name}.assets`, topicMetrics: `${name}.metrics` };
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, simulatorTopics(options));
  return options;
}

async function runSimulation(t: { teardown(fn: () => unknown): void }, overrides: Partial<SimulateOptions>) {
  const topics = await topicsFor(t);
  const options: SimulateOptions = {
    ...DEFAULTS,
    pumps: 6,
    rate: 20,
    seconds: 3,
    faulty: 0.5,
    seed: SEED,
    // Ids follow the start time (one id, one content): fix it, so the ids expected below are the ids sent.
    startAt: Date.parse("2026-06-01T00:00:00Z"),
    ...topics,
    ...overrides,
  };
  const producer = createIdempotentProducer(testKafka());
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const report = await simulate(options, { producer });
  const fleet = planFleet(options);
  const expected = {
    assets: fleet.pumps.map((pump) => registrationEvent(fleet, pump, options.startAt ?? 0).id),
    metrics: Array.from({ length: fleet.totalReadings }, (_, k) => readingEvent(fleet, k, options.startAt ?? 0).id),
  };
  return { options, report, expected };
}

function parsed(records: ReadRecord[]) {
  return records.map((record) => {
    const result = catalog.parse(JSON.parse(record.value));
    if (!result.ok) throw new Error(`offset ${record.offset}: ${result.message}`);
    return { record, event: result.event };
  });
}

test("a small fleet streams for 3 s: every registration and reading arrives, keyed by assetId", async (t) => {
  const began = Date.now();
  const { options, report, expected } = await runSimulation(t, {});
  const took = Date.now() - began;
  t.true(took >= 2_900 && took < 15_000, `took ${took} ms`);
  t.like(report, { pumps: 6, registered: 6, readings: 60, records: 66, interrupted: false });
  t.is(report.faulty.length, 3);

  const assets = parsed(await readTopic(options.topicAssets, { atLeast: 6 }));
  const metrics = parsed(await readTopic(options.topicMetrics, { atLeast: 60 }));
  t.is(assets.length, 6);
  t.is(metrics.length, 60);
  t.deepEqual(assets.map((a) => a.event.id).sort(), [...expected.assets].sort());
  t.deepEqual(metrics.map((m) => m.event.id).sort(), [...expected.metrics].sort());
  t.true(assets.every(({ event }) => event.type === "pump.registered"));
  t.true(metrics.every(({ event }) => event.type === "pump.metric.reported"));

  const partitionOf = new Map<string, number>();
  for (const { record, event } of [...assets, ...metrics]) {
    const assetId = (event.data as { assetId: string }).assetId;
    t.is(record.key, assetId);
    t.is(event.subject, assetId);
    const seen = partitionOf.get(assetId);
    if (seen !== undefined) t.is(record.partition, seen, `${assetId} stays on one partition`);
    partitionOf.set(assetId, record.partition);
  }
  t.is(partitionOf.size, 6);
  for (const assetId of partitionOf.keys()) {
    const times = metrics.filter((m) => m.record.key === assetId).map((m) => m.event.time);
    t.is(times.length, 10);
    t.deepEqual(times, [...times].sort(), `${assetId}'s readings arrive in time order`);
  }
});

test("--duplicate produces every record twice with the same id, key and partition", async (t) => {
  const { options, report, expected } = await runSimulation(t, { duplicate: true });
  t.like(report, { registered: 6, readings: 60, records: 132, duplicate: true });
  const assets = parsed(await readTopic(options.topicAssets, { atLeast: 12 }));
  const metrics = parsed(await readTopic(options.topicMetrics, { atLeast: 120 }));
  t.is(assets.length, 12);
  t.is(metrics.length, 120);
  for (const [records, ids] of [
    [assets, expected.assets],
    [metrics, expected.metrics],
  ] as const) {
    const byId = new Map<string, ReadRecord[]>();
    for (const { record, event } of records) byId.set(event.id, [...(byId.get(event.id) ?? []), record]);
    t.deepEqual([...byId.keys()].sort(), [...ids].sort(), "the same ids as a single run of the same seed");
    for (const [id, copies] of byId) {
      t.is(copies.length, 2, `${id} twice`);
      const [a, b] = copies as [ReadRecord, ReadRecord];
      t.deepEqual([a.key, a.partition, a.value], [b.key, b.partition, b.value], `${id}: identical copies`);
    }
  }
});

const withBrokers = () => ({ ...process.env, KAFKA_BROKERS: kafkaSettings().brokers.join(",") });

/** The environment without KAFKA_BROKERS, and a stack folder of its own holding `state` (none: no stack). */
function withoutBrokers(t: ExecutionContext, state?: unknown): NodeJS.ProcessEnv {
  const stackDir = mkdtempSync(join(tmpdir(), "sim-stack-"));
  t.teardown(() => rmSync(stackDir, { recursive: true, force: true }));
  if (state !== undefined) writeFileSync(join(stackDir, "state.json"), JSON.stringify(state));
  const env: NodeJS.ProcessEnv = { ...process.env, STACK_DIR: stackDir };
  delete env.KAFKA_BROKERS;
  return env;
}

test("npm run simulate: without KAFKA_BROKERS and no stack running, it fails with one clear line", async (t) => {
  const { code, stdout, stderr } = await runScript("scripts/simulate.ts", ["--seconds", "1"], withoutBrokers(t));
  t.is(code, 1);
  t.is(stderr.trim(), NO_BROKERS);
  t.is(stdout, "");
});

test("npm run simulate: without KAFKA_BROKERS it uses the running stack's broker and says so", async (t) => {
  const brokers = kafkaSettings().brokers;
  // A stack whose broker this test process stands for: alive, and listening where the real broker does.
  const server = { pid: process.pid, ports: [], logFile: "" };
  const state = { kafka: { brokers, external: false, server }, couch: { url: "http://127.0.0.1:1", external: true } };
  const name = uniqueName("sim-test");
  const args = ["--pumps", "2", "--rate", "10", "--seconds", "1", "--seed", "stack"];
  const topics = ["--topic-assets", `${name}.assets`, "--topic-metrics", `${name}.metrics`];
  const { code, stderr } = await runScript("scripts/simulate.ts", [...args, ...topics], withoutBrokers(t, state));
  t.is(code, 0, stderr);
  t.true(stderr.includes(`simulate: using the running stack (KAFKA_BROKERS=${brokers.join(",")})`), stderr);
  t.true((await readTopic(`${name}.metrics`, { atLeast: 1 })).length >= 1);
});

test("npm run simulate: creates its topics, streams, and ends with the summary", async (t) => {
  const name = uniqueName("sim-test");
  const args = ["--pumps", "5", "--rate", "25", "--seconds", "2", "--faulty", "1", "--seed", "cli"];
  const topics = ["--topic-assets", `${name}.assets`, "--topic-metrics", `${name}.metrics`];
  const { code, stdout, stderr } = await runScript("scripts/simulate.ts", [...args, ...topics], withBrokers());
  t.is(code, 0, stderr);
  t.regex(stdout, /Simulation done\./);
  t.regex(stdout, /readings +50 of 50 sent/);
  t.regex(stdout, /records +55 in/);
  t.regex(stdout, /faulty +overheating 1, pressure-drop 1, overcurrent 1, cavitation 1, stalled 1/);
  t.regex(stdout, /^done +pumps 5\/5 +readings 50\/50/m, "the last progress line, not rewritten in a pipe");
  t.is((await readTopic(`${name}.metrics`, { atLeast: 50 })).length, 50);
});

test("npm run messages: produce from arguments and stdin, consume from the beginning with key, partition, offset", async (t) => {
  const topic = `${uniqueName("sim-test")}.text`;
  const env = withBrokers();
  const missing = await runScript("scripts/messages.ts", ["produce", topic, "x"], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /does not exist .*add --create/);
  const fromArgs = await runScript(
    "scripts/messages.ts",
    ["produce", topic, "--create", "--key", "k1", "hello there"],
    env,
  );
  t.is(fromArgs.code, 0, fromArgs.stderr);
  t.regex(fromArgs.stdout, /sent 1 message\(s\)/);
  const fromStdin = await runScript(
    "scripts/messages.ts",
    ["produce", topic, "--key", "k1"],
    env,
    "line one\nline two\n",
  );
  t.is(fromStdin.code, 0, fromStdin.stderr);
  const consumed = await runScript("scripts/messages.ts", ["consume", topic, "--from-beginning", "--max", "3"], env);
  t.is(consumed.code, 0, consumed.stderr);
  t.deepEqual(consumed.stdout.trim().split("\n"), [
    printed("k1", 0, "hello there", consumed.stdout),
    printed("k1", 1, "line one", consumed.stdout),
    printed("k1", 2, "line two", consumed.stdout),
  ]);
});

/** One printed line; all three share key k1, so one partition, whichever the partitioner chose. */
function printed(key: string, offset: number, value: string, output: string): string {
  const partition = /partition=(\d+)/.exec(output)?.[1] ?? "?";
  return `key=${key} partition=${partition} offset=${offset} ${value}`;
}
