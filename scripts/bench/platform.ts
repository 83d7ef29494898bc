// npm run bench -- platform: the local OpenWhisk measured through the `openwhisk` npm client, against a
// direct in-process call of the same `main` (the ceiling): blocking invoke latency of fresh actions (cold) and of a
// warm one, invocations/s with 1 and 8 callers, Kafka-record-to-action-start latency through a kafkaFeed
// trigger on the real Kafka (with the provider's 2 s batch window, and with a 50 ms one), and peak RSS of this
// process (which hosts the platform) plus its action containers. Counts and durations are bounded: about 1 minute.
import { readdirSync, readFileSync } from "node:fs";
import openwhisk from "openwhisk";
import { createKafka, ensureTopics } from "../../lib/kafka/client.ts";
import { type KafkaSettings, kafkaSettingsFromEnv } from "../../lib/kafka/config.ts";
import type { LocalOptionsInput } from "../../local/config.ts";
import { defaultProviders, type FeedSettings } from "../../local/feeds/index.ts";
import { type LocalOpenWhisk, startLocalOpenWhisk } from "../../local/server.ts";
import { readState, stackStatus } from "../stack/lifecycle.ts";
import { fixed, summarizeLatencies } from "./measure.ts";

const COLD_ACTIONS = 12;
const WARM_INVOKES = 300;
const THROUGHPUT_MS = 4_000;
const KAFKA_RECORDS = 60;
const KAFKA_GAP_MS = 100;

/** The one action: echoes `n` and the offsets of the Kafka messages it was given, and says when it started. */
const ACTION = `function main(params) {
  const started = Date.now();
  const messages = Array.isArray(params.messages) ? params.messages : [];
  return { n: params.n === undefined ? null : params.n, started, offsets: messages.map((m) => m.offset) };
}`;
type Main = (params: Record<string, unknown>) => unknown;
const compile = () => new Function(`${ACTION}\nreturn main;`)() as Main;

// Raised throttles: the standalone defaults (60 invokes and fires per minute) would measure the throttle.
const LIMITS: LocalOptionsInput = {
  port: 0,
  limits: { invokesPerMinute: 1_000_000, firesPerMinute: 1_000_000, concurrent: 1_000 },
  maxContainers: 24,
};

type Client = ReturnType<typeof openwhisk>;
type Result = { n: number | null; started: number; offsets: number[] };

/** RSS of this process and of its descendants (the action containers), from /proc; sampled until stopped. */
class RssSampler {
  peakSelf = 0;
  peakChildren = 0;
  peakTotal = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(every = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), every);
  }

  private sample(): void {
    const self = process.memoryUsage.rss();
    let children = 0;
    try {
      const parents = new Map<number, number>();
      const rss = new Map<number, number>();
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          parents.set(Number(entry), Number(fields[1]));
          rss.set(Number(entry), Number(fields[21]) * 4096);
        } catch {
          // the process has gone
        }
      }
      const mine = new Set([process.pid]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const [pid, ppid] of parents)
          if (!mine.has(pid) && mine.has(ppid)) {
            mine.add(pid);
            grew = true;
          }
      }
      for (const pid of mine) if (pid !== process.pid) children += rss.get(pid) ?? 0;
    } catch {
      // no /proc: children stay 0
    }
    this.peakSelf = Math.max(this.peakSelf, self);
    this.peakChildren = Math.max(this.peakChildren, children);
    this.peakTotal = Math.max(this.peakTotal, self + children);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

async function invoke(client: Client, name: string, n: number): Promise<Result> {
  const activation = await client.actions.invoke<{ n: number }, Result>({
    name,
    blocking: true,
    params: { n },
  });
  if (activation.response?.success !== true) throw new Error(`${name}: ${JSON.stringify(activation.response)}`);
  return activation.response.result;
}

/** Calls `call` from `workers` loops until `ms` has passed; returns calls per second. */
async function rate(workers: number, ms: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const until = t0 + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < until) await call(done++);
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

async function timed(calls: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await call(i);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

interface Figures {
  cold: number[];
  warm: number[];
  c1: number;
  c8: number;
  directCold: number[];
  directWarm: number[];
  directC1: number;
  directC8: number;
}

async function invokeFigures(client: Client): Promise<Figures> {
  // Cold: the first invoke of each of COLD_ACTIONS fresh actions (a new container process each, /init then /run).
  for (let i = 0; i < COLD_ACTIONS; i++) await client.actions.create({ name: `cold-${i}`, action: ACTION });
  const cold = await timed(COLD_ACTIONS, (i) => invoke(client, `cold-${i}`, i));
  for (let i = 0; i < COLD_ACTIONS; i++) await client.actions.delete({ name: `cold-${i}` });
  process.stdout.write(`  cold invokes done (${COLD_ACTIONS} actions)\n`);

  await client.actions.create({ name: "bench", action: ACTION });
  await timed(20, (i) => invoke(client, "bench", i));
  const warm = await timed(WARM_INVOKES, (i) => invoke(client, "bench", i));
  process.stdout.write(`  warm invokes done (${WARM_INVOKES})\n`);
  const c1 = await rate(1, THROUGHPUT_MS, (i) => invoke(client, "bench", i));
  await rate(8, 1_000, (i) => invoke(client, "bench", i)); // brings up the 8 containers first
  const c8 = await rate(8, THROUGHPUT_MS, (i) => invoke(client, "bench", i));
  process.stdout.write("  throughput done (1 and 8 callers)\n");

  // The ceiling: the same main called in this process; cold = compiling the source and the first call.
  const directCold = await timed(COLD_ACTIONS, async (i) => compile()({ n: i }));
  const main = compile();
  await timed(1_000, async (i) => main({ n: i }));
  const directWarm = await timed(WARM_INVOKES, async (i) => main({ n: i }));
  const directC1 = await rate(1, 1_000, async (i) => main({ n: i }));
  const directC8 = await rate(8, 1_000, async (i) => main({ n: i }));
  return { cold, warm, c1, c8, directCold, directWarm, directC1, directC8 };
}

/** Where Kafka is: KAFKA_BROKERS, else the local stack if `npm run stack -- status` would say it is up. */
async function findKafka(): Promise<KafkaSettings | string> {
  const fromEnv = kafkaSettingsFromEnv(process.env, "bench-platform");
  if (fromEnv) return fromEnv;
  const status = await stackStatus();
  const state = readState();
  if (!status.up || !state) {
    return "Kafka phase skipped: the local stack is not up. Run `npm run stack -- up` first (or set KAFKA_BROKERS).";
  }
  return { brokers: state.kafka.brokers, ssl: false, clientId: "bench-platform" };
}

interface KafkaFigures {
  label: string;
  latencies: number[];
  fires: number;
}

/** Produces KAFKA_RECORDS records, one every KAFKA_GAP_MS, and reads each record's action start from the results. */
async function kafkaFigures(settings: KafkaSettings, label: string, feeds: Partial<FeedSettings>) {
  const ow = await startLocalOpenWhisk(LIMITS, defaultProviders(feeds));
  const kafka = createKafka(settings);
  const admin = kafka.admin();
  const producer = kafka.producer();
  const topic = `bench-platform-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  try {
    await admin.connect();
    await producer.connect();
    await ensureTopics(admin, [{ topic, partitions: 1 }]);
    const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
    await client.actions.create({ name: "bench", action: ACTION });
    const feed = "/whisk.system/messaging/kafkaFeed";
    await client.triggers.create({ name: "records", trigger: { annotations: [{ key: "feed", value: feed }] } });
    const feeds = client.feeds as unknown as { create(o: Record<string, unknown>): Promise<unknown> };
    await feeds.create({
      feedName: feed,
      trigger: "records",
      params: { topic, brokers: settings.brokers.join(",") },
    });
    await client.rules.create({ name: "records-bench", trigger: "records", action: "bench" });

    const sent = new Map<number, number>();
    const send = async () => {
      const at = Date.now();
      const [meta] = await producer.send({ topic, messages: [{ value: "x" }] });
      sent.set(Number(meta!.baseOffset), at);
    };
    const results = new Map<number, number>();
    const collect = async () => {
      const list = (await client.activations.list({ name: "bench", docs: true, limit: 200 })) as unknown as Array<{
        response?: { result?: Result };
      }>;
      let fires = 0;
      for (const a of list) {
        const r = a.response?.result;
        if (!r?.offsets) continue;
        fires++;
        for (const offset of r.offsets) results.set(offset, r.started);
      }
      return fires;
    };
    const waitFor = async (offsets: number[], ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await collect();
        if (offsets.every((o) => results.has(o))) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${label}: not every record reached the action within ${ms} ms`);
    };
    // One record first: the consumer joins its group and the action's container warms up.
    await send();
    await waitFor([0], 30_000);
    const warmFires = await collect();
    for (let i = 0; i < KAFKA_RECORDS; i++) {
      const next = Date.now() + KAFKA_GAP_MS;
      await send();
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    const measured = [...sent.keys()].filter((o) => o > 0);
    await waitFor(measured, 30_000);
    const latencies = measured.map((o) => results.get(o)! - sent.get(o)!);
    const fires = (await collect()) - warmFires;
    process.stdout.write(`  Kafka ${label} done (${measured.length} records, ${fires} fires)\n`);
    return { label, latencies, fires };
  } finally {
    await ow.stop();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

function printTable(f: Figures, kafka: KafkaFigures[] | string, rss: RssSampler, seconds: number) {
  const ms = (v: number) => fixed(v, v < 1 ? 4 : 1);
  const cold = summarizeLatencies(f.cold);
  const warm = summarizeLatencies(f.warm);
  const dCold = summarizeLatencies(f.directCold);
  const dWarm = summarizeLatencies(f.directWarm);
  const rows: Array<[string, string, string, string]> = [
    [`cold invoke p50 ms (${COLD_ACTIONS} fresh actions)`, ms(cold.p50), ms(dCold.p50), fixed(cold.p50 / dCold.p50, 0)],
    [`cold invoke p99 ms`, ms(cold.p99), ms(dCold.p99), fixed(cold.p99 / dCold.p99, 0)],
    [`warm invoke p50 ms (${WARM_INVOKES} invokes)`, ms(warm.p50), ms(dWarm.p50), fixed(warm.p50 / dWarm.p50, 0)],
    [`warm invoke p99 ms`, ms(warm.p99), ms(dWarm.p99), fixed(warm.p99 / dWarm.p99, 0)],
    ["invocations/s, 1 caller", fixed(f.c1, 0), fixed(f.directC1, 0), fixed(f.directC1 / f.c1, 0)],
    ["invocations/s, 8 callers", fixed(f.c8, 0), fixed(f.directC8, 0), fixed(f.directC8 / f.c8, 0)],
  ];
  console.log(`\nLocal OpenWhisk through the openwhisk client vs a direct call of the same main, ${seconds} s:\n`);
  console.log("| measure | local OpenWhisk | direct call (ceiling) | gap (x) |");
  console.log("|---|---:|---:|---:|");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(
    "\nDirect cold = compiling the action's source and its first call. Gap = platform / direct for latencies, " +
      "direct / platform for rates.",
  );
  if (typeof kafka === "string") {
    console.log(`\n${kafka}`);
  } else {
    console.log(`\nKafka record to action start (${KAFKA_RECORDS} records, one every ${KAFKA_GAP_MS} ms):\n`);
    console.log("| feed batch window | p50 ms | p99 ms | fires |");
    console.log("|---|---:|---:|---:|");
    for (const k of kafka) {
      const { p50, p99 } = summarizeLatencies(k.latencies);
      console.log(`| ${k.label} | ${fixed(p50, 0)} | ${fixed(p99, 0)} | ${k.fires} |`);
    }
  }
  const mib = (bytes: number) => fixed(bytes / 2 ** 20, 0);
  console.log(
    `\nPeak RSS: ${mib(rss.peakTotal)} MiB in all (platform process ${mib(rss.peakSelf)} MiB, ` +
      `action containers ${mib(rss.peakChildren)} MiB at most).`,
  );
}

export default async function platformBenchmark(): Promise<void> {
  const started = Date.now();
  const rss = new RssSampler();
  try {
    console.log("Benchmark: local OpenWhisk (throttles raised)");
    const ow: LocalOpenWhisk = await startLocalOpenWhisk(LIMITS, defaultProviders());
    let figures: Figures;
    try {
      figures = await invokeFigures(openwhisk({ apihost: ow.apiHost, api_key: ow.auth }));
    } finally {
      await ow.stop();
    }
    const settings = await findKafka();
    let kafka: KafkaFigures[] | string = settings as string;
    if (typeof settings !== "string") {
      kafka = [
        await kafkaFigures(settings, "2 s (the provider's)", { kafkaBatchMs: 2_000, kafkaPollMs: 1_000 }),
        await kafkaFigures(settings, "50 ms (platform path)", { kafkaBatchMs: 50, kafkaPollMs: 25 }),
      ];
    }
    rss.stop();
    printTable(figures, kafka, rss, Math.round((Date.now() - started) / 1000));
  } finally {
    rss.stop();
  }
}
