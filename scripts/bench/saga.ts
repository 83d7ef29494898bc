// npm run bench -- saga: completed sagas per second and the time from maintenance.requested to a terminal state,
// through the deployed system on the local OpenWhisk, once on each feed (OpenWhisk's Kafka feed with its provider's
// 2 s batch window, and the lossless feed with its 50 ms one), and, in the same run, a bare KafkaJS pipe with the
// same four hops as the ceiling; BENCH_RUNS (3) times, with the median and the spread of each figure. Beside the
// latency, what a warm saga costs: CPU milliseconds of each role (from /proc), the store's requests by Cloudant's
// kinds, Kafka records, activations and trigger fires. Ends with where the saga's time goes, from the times the
// steps stamped on the events they emitted. Resets the saga's topics and databases on the local stack.
import { cpus, loadavg } from "node:os";
import type { Consumer, Kafka } from "kafkajs";
import { catalog } from "../../functions/events.ts";
import { REMEDY } from "../../functions/monitoring/detection.ts";
import { TOPIC, TOPICS } from "../../functions/topology.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { createConsumer, createIdempotentProducer, createKafka, ensureTopics } from "../../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../../lib/kafka/config.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";
import { resetSaga } from "../saga/reset.ts";
import { type RunningSystem, startSystem } from "../saga/system.ts";
import { clientEnv, readState } from "../stack/lifecycle.ts";
import { costPerSaga, type SagaCost, snapshot } from "./costs.ts";
import { fixed, summarizeLatencies, withPeakMemory } from "./measure.ts";

const SAGAS = Number(process.env.BENCH_SAGAS ?? 300);
const RATE = Number(process.env.BENCH_SAGA_RATE ?? 100); // requests per second
// Sagas sent first and measured apart: they start the containers (1 to 3 s each on 2 cores) and the producers.
const WARMUP = Number(process.env.BENCH_SAGA_WARMUP ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// Which feeds to measure (both by default): kafkaFeed, lossless.
const FEEDS = (process.env.BENCH_SAGA_FEEDS ?? "kafkaFeed,lossless").split(",");
const HOPS = ["workorder.opened", "part.reserved", "crew.assigned", "workorder.scheduled"];
const SITES = ["north", "south", "east", "west"];

interface Measured {
  name: string;
  latencies: number[];
  seconds: number;
  peakRssMiB: number;
}

function environment(): Record<string, string> {
  const state = readState();
  const env = state ? clientEnv(state) : {};
  const merged = {
    ...env,
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(KAFKA|CLOUDANT)_/.test(k))),
  };
  if (!merged.KAFKA_BROKERS || !merged.CLOUDANT_URL) throw new Error("start the stack first: npm run stack -- up");
  return merged as Record<string, string>;
}

/** Sends `count` items at `rate` per second; returns the send time of each. */
async function paced(count: number, send: (i: number) => Promise<void>): Promise<number[]> {
  const sentAt: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt[i] = performance.now();
    await send(i);
  }
  return sentAt;
}

async function untilAll(consumer: Consumer, done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`not all sagas ended within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await consumer.disconnect();
}

async function measureSystem(
  kafka: Kafka,
  run: string,
  name: string,
  count: number,
): Promise<{ measured: Measured; hops: number[][] }> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const ended = new Map<string, number>();
  const hopTimes = new Map<string, Record<string, number>>();
  const consumer = createConsumer(kafka, `${run}-watch`);
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC.workorders, TOPIC.parts, TOPIC.crews], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = JSON.parse(message.value?.toString() ?? "{}") as {
        type: string;
        time: string;
        data: { workOrderId: string };
      };
      if (!event.data.workOrderId?.startsWith(`wo-${run}-`)) return; // an earlier round's
      const times = hopTimes.get(event.data.workOrderId) ?? {};
      times[event.type] = Date.parse(event.time);
      hopTimes.set(event.data.workOrderId, times);
      if (event.type === "workorder.scheduled" || event.type === "workorder.cancelled") {
        if (!ended.has(event.data.workOrderId)) ended.set(event.data.workOrderId, performance.now());
      }
    },
  });
  const requestedAt: number[] = [];
  const { result: sentAt, peakRssMiB } = await withPeakMemory(async () => {
    const sent = await paced(count, async (i) => {
      const incidentId = `${run}-${i}`;
      requestedAt[i] = Date.now();
      const event = catalog.build("maintenance.requested", {
        id: rootEventId(incidentId),
        source: "/bench",
        subject: incidentId,
        time: new Date().toISOString(),
        data: {
          incidentId,
          assetId: `pump-${i}`,
          site: SITES[i % SITES.length] ?? "north",
          problem: "overheating",
          ...REMEDY.overheating,
          requestedBy: "operator",
          detectedAt: new Date().toISOString(),
        },
      });
      await producer.send({ topic: TOPIC.monitoring, messages: [{ key: incidentId, value: JSON.stringify(event) }] });
    });
    await untilAll(consumer, () => ended.size >= count, 300_000);
    return sent;
  });
  await producer.disconnect();
  const latencies = sentAt.map((t, i) => (ended.get(`wo-${run}-${i}`) ?? Number.NaN) - t);
  const last = Math.max(...ended.values());
  const hops = sentAt.map((_, i) => {
    const times = hopTimes.get(`wo-${run}-${i}`) ?? {};
    let previous = requestedAt[i] ?? 0;
    return HOPS.map((type) => {
      const at = times[type] ?? Number.NaN;
      const hop = at - previous;
      previous = at;
      return hop;
    });
  });
  return {
    measured: { name, latencies, seconds: (last - (sentAt[0] ?? 0)) / 1000, peakRssMiB },
    hops,
  };
}

/** The ceiling: the same four hops as plain consume-and-produce between topics, nothing stored, no platform. */
async function measurePipe(kafka: Kafka, run: string): Promise<Measured> {
  const topics = [0, 1, 2, 3, 4].map((n) => `${run}.pipe.${n}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    topics.map((topic) => ({ topic, partitions: 4 })),
  );
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const consumers: Consumer[] = [];
  const ended = new Map<string, number>();
  for (let hop = 0; hop < 4; hop += 1) {
    const consumer = createConsumer(kafka, `${run}-pipe-${hop}`);
    await consumer.connect();
    await consumer.subscribe({ topic: topics[hop] ?? "", fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        await producer.send({ topic: topics[hop + 1] ?? "", messages: [{ key: message.key, value: message.value }] });
      },
    });
    consumers.push(consumer);
  }
  const sink = createConsumer(kafka, `${run}-pipe-sink`);
  await sink.connect();
  await sink.subscribe({ topic: topics[4] ?? "", fromBeginning: true });
  await sink.run({
    eachMessage: async ({ message }) => {
      ended.set(message.key?.toString() ?? "", performance.now());
    },
  });
  const { result: sentAt, peakRssMiB } = await withPeakMemory(async () => {
    const sent = await paced(SAGAS, (i) =>
      producer
        .send({ topic: topics[0] ?? "", messages: [{ key: `s${i}`, value: JSON.stringify({ i }) }] })
        .then(() => undefined),
    );
    await untilAll(sink, () => ended.size >= SAGAS, 120_000);
    return sent;
  });
  await Promise.all(consumers.map((c) => c.disconnect()));
  await producer.disconnect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  const latencies = sentAt.map((t, i) => (ended.get(`s${i}`) ?? Number.NaN) - t);
  return {
    name: "bare KafkaJS pipe, 4 hops",
    latencies,
    seconds: (Math.max(...ended.values()) - (sentAt[0] ?? 0)) / 1000,
    peakRssMiB,
  };
}

interface RunFigures {
  sagas: Measured[];
  hops: { name: string; hops: number[][] }[];
  pipe: Measured;
  costs: { name: string; cost: SagaCost & { activations: number; fires: number } }[];
}

/** Activations and trigger fires the local OpenWhisk recorded since `since`. */
function platformWork(system: RunningSystem, since: number): { activations: number; fires: number } {
  const records = system.ow.platform.activations.list({ namespace: system.ow.namespace, since, skip: 0, limit: 1e9 });
  const fires = records.filter((a) => !a.annotations.some((x) => x.key === "path")).length;
  return { activations: records.length - fires, fires };
}

async function oneRun(env: Record<string, string>, kafka: Kafka, runIndex: number): Promise<RunFigures> {
  const kafkaSettings = requireKafkaSettings(kafkaSettingsFromEnv(env, "bench-saga"));
  const store = requireStoreSettings(storeSettingsFromEnv(env));
  const run = `b${Date.now().toString(36)}`;
  const feeds = [
    { name: "saga, OpenWhisk's Kafka feed", feed: "kafkaFeed" },
    { name: "saga, lossless feed", feed: "lossless" },
  ].filter(({ feed }) => FEEDS.includes(feed));
  const state = readState();
  const figures: RunFigures = { sagas: [], hops: [], pipe: undefined as never, costs: [] };
  for (const [index, { name, feed }] of feeds.entries()) {
    const admin = kafka.admin();
    await admin.connect();
    await resetSaga(admin, createCloudant(store), { brokers: kafkaSettings.brokers, storeUrl: store.url });
    const system = await startSystem({
      env: { ...env, KAFKA_FEED: feed },
      policies: { workorderDeadlineMs: 600_000, stockDefault: 100_000, crewsCapacityPerDay: 100_000 },
      log: (line) => console.log(line),
    });
    try {
      if (WARMUP > 0) {
        console.log(`run ${runIndex + 1}, ${name}: warming up with ${WARMUP} maintenance requests at ${RATE}/s...`);
        const cold = await measureSystem(kafka, `${run}-${index}w`, `${name}, cold: the first ${WARMUP}`, WARMUP);
        figures.sagas.push(cold.measured);
      }
      console.log(`run ${runIndex + 1}, ${name}: sending ${SAGAS} maintenance requests at ${RATE}/s...`);
      const roles = {
        storePid: state?.couch.server?.pid,
        brokerPid: state?.kafka.server?.pid,
        store,
        admin,
        topics: TOPICS.map((t) => t.topic),
      };
      const since = Date.now();
      const before = await snapshot(roles);
      const warm = await measureSystem(kafka, `${run}-${index}`, WARMUP > 0 ? `${name}, warm` : name, SAGAS);
      const after = await snapshot(roles);
      const work = platformWork(system, since);
      figures.sagas.push(warm.measured);
      figures.hops.push({ name: warm.measured.name, hops: warm.hops });
      figures.costs.push({
        name,
        cost: {
          ...costPerSaga(before, after, SAGAS),
          activations: work.activations / SAGAS,
          fires: work.fires / SAGAS,
        },
      });
    } finally {
      await system.stop();
      await admin.disconnect();
    }
  }
  console.log(`run ${runIndex + 1}: the same load through a bare KafkaJS pipe...`);
  figures.pipe = await measurePipe(kafka, run);
  return figures;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
/** "median (min-max)" of one figure over the runs. */
function spread(values: number[], digits = 0): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "-";
  const show = (v: number) => fixed(v, digits);
  return finite.length === 1
    ? show(finite[0] as number)
    : `${show(median(finite))} (${show(Math.min(...finite))}-${show(Math.max(...finite))})`;
}

export default async function main(): Promise<void> {
  const env = environment();
  const kafka = createKafka(requireKafkaSettings(kafkaSettingsFromEnv(env, "bench-saga")));
  const machine = `${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} before the run`;
  const runs: RunFigures[] = [];
  for (let i = 0; i < RUNS; i += 1) runs.push(await oneRun(env, kafka, i));

  const feeds = process.env.BENCH_SAGA_FEEDS ? ` BENCH_SAGA_FEEDS=${process.env.BENCH_SAGA_FEEDS}` : "";
  const command = `BENCH_RUNS=${RUNS} BENCH_SAGAS=${SAGAS} BENCH_SAGA_RATE=${RATE} BENCH_SAGA_WARMUP=${WARMUP}${feeds} npm run bench -- saga`;
  console.log(
    `\n${SAGAS} sagas requested at ${RATE}/s${WARMUP > 0 ? ` after ${WARMUP} to warm up` : ""}; ${machine}; ${RUNS} runs: median (min-max)\n${command}\n`,
  );
  console.log("| variant | sagas/s | p50 ms | p99 ms | peak RSS MiB |");
  console.log("|---|---:|---:|---:|---:|");
  const variants = [...(runs[0]?.sagas ?? []).map((m) => m.name), runs[0]?.pipe.name ?? ""];
  for (const name of variants) {
    const each = runs.map((r) => [...r.sagas, r.pipe].find((m) => m.name === name) as Measured);
    const stats = each.map((m) => ({ ...summarizeLatencies(m.latencies), rate: m.latencies.length / m.seconds }));
    console.log(
      `| ${name} | ${spread(
        stats.map((x) => x.rate),
        1,
      )} | ${spread(stats.map((x) => x.p50))} | ${spread(stats.map((x) => x.p99))} | ${spread(each.map((m) => m.peakRssMiB))} |`,
    );
  }

  console.log(
    "\nWhat a warm saga costs (per saga; CPU from /proc; the store's requests by Cloudant's classes, and the documents they read and wrote, which Cloudant meters one unit each):\n",
  );
  console.log(
    "| feed | CPU ms, all | platform and feeds | action containers | store | broker | store reads | writes | global queries | documents read | written | Kafka records | activations | fires |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const name of (runs[0]?.costs ?? []).map((c) => c.name)) {
    const each = runs.map((r) => r.costs.find((c) => c.name === name)?.cost as RunFigures["costs"][number]["cost"]);
    const col = (pick: (c: (typeof each)[number]) => number, digits = 0) => spread(each.map(pick), digits);
    console.log(
      `| ${name.replace("saga, ", "")} | ${col((c) => c.cpuMs.total)} | ${col((c) => c.cpuMs.platform)} | ${col((c) => c.cpuMs.containers)} | ${col((c) => c.cpuMs.store)} | ${col((c) => c.cpuMs.broker)} | ${col((c) => c.requests.read, 1)} | ${col((c) => c.requests.write, 1)} | ${col((c) => c.requests.global, 1)} | ${col((c) => c.requests.docsRead, 1)} | ${col((c) => c.requests.docsWritten, 1)} | ${col((c) => c.records, 1)} | ${col((c) => c.activations, 1)} | ${col((c) => c.fires, 1)} |`,
    );
  }

  const pipeP50 = median(runs.map((r) => summarizeLatencies(r.pipe.latencies).p50));
  for (const name of (runs[0]?.hops ?? []).map((h) => h.name)) {
    const p50s = runs.map((r) => summarizeLatencies(r.sagas.find((m) => m.name === name)?.latencies ?? []).p50);
    console.log(`\n${name}: p50 / pipe p50 ${fixed(median(p50s) / pipeP50, 0)}x`);
    console.log("Where a saga's time goes (p50 and p99 per hop over the runs, from the times the steps stamped):");
    const names = [
      "requested -> opened (workorders)",
      "opened -> part reserved (parts)",
      "reserved -> crew assigned (crews)",
      "assigned -> scheduled (workorders)",
    ];
    names.forEach((hopName, hop) => {
      const all = runs.flatMap((r) => r.hops.find((h) => h.name === name)?.hops.map((h) => h[hop] ?? Number.NaN) ?? []);
      const { p50, p99 } = summarizeLatencies(all.filter(Number.isFinite));
      console.log(`  ${hopName.padEnd(36)} p50 ${fixed(p50, 0)} ms, p99 ${fixed(p99, 0)} ms`);
    });
  }
}
