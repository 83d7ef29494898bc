// npm run bench -- step: one entity step consuming batches of 100 through the real local stack, as OpenWhisk's feed
// fires it (the batch landed first) and as the lossless feed does (no landing), measured in the same run against
// (a) a bare KafkaJS consume-and-produce pipe over the same topics, the transport's ceiling, (b) the store's own
// ceiling for the work: one bulk read and one bulk write per batch, and (c) a naive baseline that claims and
// completes an idempotency record per message with single writes and applies the effect with its own read and
// write, as AWS Lambda Powertools' idempotency does.
import type { Admin, Producer } from "kafkajs";
import { statusOf } from "../../lib/errors.ts";
import { defineEventCatalog } from "../../lib/events/catalog.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { hashPayload } from "../../lib/idempotency/decide.ts";
import { createConsumer, createIdempotentProducer, createKafka, ensureTopics } from "../../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../../lib/kafka/config.ts";
import { defineEntityStep } from "../../lib/step/index.ts";
import { closeAllClients } from "../../lib/step/tools.ts";
import { type Cloudant, createCloudant, ensureDatabase } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";
import * as z from "../../lib/zod.ts";
import { fixed, summarizeLatencies, withPeakMemory } from "./measure.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 200);
const run = `bench-${Date.now().toString(36)}`;

const catalog = defineEventCatalog({
  "meter.read": z.object({ units: z.number() }),
  "meter.totalled": z.object({ total: z.number() }),
});

type Value = { key: string | null; value: string; partition: number; offset: string };
type Processor = (batch: Value[], topic: string, heartbeat: () => Promise<void>) => Promise<void>;

/** Consumes the whole input topic from the beginning in batches of BATCH and times each batch's processing. */
async function consumeAll(kafka: ReturnType<typeof createKafka>, topic: string, process: Processor) {
  const consumer = createConsumer(kafka, `${run}-${Math.random().toString(36).slice(2)}`);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const latencies: number[] = [];
  let seen = 0;
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat }) => {
          if (started === 0) started = performance.now();
          const values = batch.messages.map((m) => ({
            key: m.key?.toString() ?? null,
            value: m.value?.toString() ?? "",
            partition: batch.partition,
            offset: m.offset,
          }));
          for (let i = 0; i < values.length; i += BATCH) {
            const chunk = values.slice(i, i + BATCH);
            const t0 = performance.now();
            await process(chunk, topic, heartbeat);
            latencies.push(performance.now() - t0);
            seen += chunk.length;
          }
          if (seen >= EVENTS) {
            finished = performance.now();
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { latencies, seconds: (finished - started) / 1000 };
}

/** The clients, the topics and the events every variant consumes, and the databases made for them. */
interface Setup {
  kafka: ReturnType<typeof createKafka>;
  cloudant: Cloudant;
  admin: Admin;
  producer: Producer;
  topics: { in: string; out: string; retry: string; dlq: string };
  databases: string[];
}

type Row = { name: string; seconds: number; latencies: number[]; peakRssMiB: number };

async function main() {
  const setup = await setUp();
  const results: Row[] = [];
  const measure = async (name: string, process: Processor) => {
    const { result, peakRssMiB } = await withPeakMemory(() => consumeAll(setup.kafka, setup.topics.in, process));
    results.push({ name, ...result, peakRssMiB });
    console.log(`  ${name}: done in ${fixed(result.seconds, 2)} s`);
  };
  const { producer, topics, cloudant } = setup;
  // (a) The ceiling: consume and produce, nothing else.
  await measure("bare KafkaJS pipe", async (batch) => {
    await producer.send({ topic: topics.out, messages: batch.map((m) => ({ key: m.key, value: m.value })) });
  });
  // The step: bulk read, fold, bulk write, one send, bulk clear. The time breakdown is the lossless run's.
  const spent = new Map<string, number>();
  await measure(STEP_OPENWHISK, stepProcessor(setup, await scratchDatabase(setup, "step"), "kafkaFeed", spent));
  spent.clear();
  await measure(STEP_LOSSLESS, stepProcessor(setup, await scratchDatabase(setup, "step-lossless"), "lossless", spent));
  // (b) The store's ceiling for this work: per batch, one bulk read of its entities and one bulk write of them.
  const ceilingDb = await scratchDatabase(setup, "ceiling");
  await measure(STORE_CEILING, async (batch) => {
    const ids = [...new Set(batch.map((m) => `entity:${m.key}`))];
    const read = await cloudant.postAllDocs({ db: ceilingDb, keys: ids, includeDocs: true });
    const docs = read.result.rows.map((row, i) => {
      const doc = (row.doc ?? { _id: ids[i] }) as { _id: string; _rev?: string; total?: number };
      return { ...doc, total: (doc.total ?? 0) + 1 };
    });
    await cloudant.postBulkDocs({ db: ceilingDb, bulkDocs: { docs: docs as never } });
  });
  // (c) The naive baseline: per message, claim a record, read and write the entity, complete the record, send.
  const naiveDb = await scratchDatabase(setup, "naive");
  await measure("naive per-message idempotency", async (batch, _topic, heartbeat) => {
    for (const message of batch) {
      await naiveApply(cloudant, naiveDb, producer, topics.out, message);
      await heartbeat(); // a slow batch must not lose the group membership
    }
  });
  printTable(results);
  printTimeSpent(spent, results.find((r) => r.name === STEP_LOSSLESS)?.seconds ?? 1);
  await tearDown(setup);
}

async function setUp(): Promise<Setup> {
  const kafkaSettings = requireKafkaSettings(
    kafkaSettingsFromEnv(process.env, "bench"),
    "KAFKA_BROKERS (start the stack: npm run stack -- up)",
  );
  const storeSettings = requireStoreSettings(
    storeSettingsFromEnv(),
    "CLOUDANT_URL (start the stack: npm run stack -- up)",
  );
  const kafka = createKafka(kafkaSettings);
  const topics = { in: `${run}.in`, out: `${run}.out`, retry: `${run}.retry`, dlq: `${run}.dlq` };
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    Object.values(topics).map((topic) => ({ topic, partitions: 4 })),
  );
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  console.log(`Producing ${EVENTS} events for ${ENTITIES} entities to ${topics.in}...`);
  const events = Array.from({ length: EVENTS }, (_, i) =>
    catalog.build("meter.read", {
      id: rootEventId(`${run}-${i}`),
      source: "/bench",
      subject: `meter-${i % ENTITIES}`,
      data: { units: 1 + (i % 7) },
      time: new Date().toISOString(),
    }),
  );
  for (let i = 0; i < events.length; i += 500) {
    await producer.send({
      topic: topics.in,
      messages: events.slice(i, i + 500).map((e) => ({ key: e.subject, value: JSON.stringify(e) })),
    });
  }
  return { kafka, cloudant: createCloudant(storeSettings), admin, producer, topics, databases: [] };
}

/** A database of this run's, deleted at the end. */
async function scratchDatabase(setup: Setup, suffix: string): Promise<string> {
  const db = `${run}-${suffix}`;
  await ensureDatabase(setup.cloudant, db);
  setup.databases.push(db);
  return db;
}

/** The step kit's entity step as the given feed fires it, its store and producer calls timed into `spent`. */
function stepProcessor(setup: Setup, database: string, feed: string, spent: Map<string, number>): Processor {
  const { topics } = setup;
  const step = defineEntityStep({
    name: "meter.total",
    catalog,
    handles: ["meter.read"],
    database,
    handle: (event, state: { total: number } | undefined) => {
      const total = (state?.total ?? 0) + event.data.units;
      return { state: { total }, emit: [{ type: "meter.totalled", data: { total } }] };
    },
    routes: { "meter.totalled": topics.out },
    topics: { retry: topics.retry, deadLetter: topics.dlq },
  });
  const producer = timedCalls(setup.producer, spent);
  const io = { cloudant: timedCalls(setup.cloudant, spent), producer: async () => producer, now: Date.now };
  return async (batch, topic) => {
    const answer = await step.run(
      {
        messages: batch.map((m) => ({ topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value })),
        kafka_feed: feed,
      },
      { ...io, log: () => undefined, deadline: Date.now() + 60_000 },
    );
    if ("error" in answer) throw new Error(answer.error.message);
  };
}

function printTimeSpent(spent: Map<string, number>, stepSeconds: number): void {
  console.log("\nWhere the step kit's time goes on the lossless feed (sum over its batches):");
  for (const [call, ms] of [...spent].sort((a, b) => b[1] - a[1])) {
    console.log(
      `  ${call.padEnd(14)} ${fixed(ms / 1000, 2)} s (${fixed((100 * ms) / 1000 / stepSeconds, 0)}% of the run)`,
    );
  }
  const ioSeconds = [...spent.values()].reduce((a, b) => a + b, 0) / 1000;
  console.log(
    `  ${"the rest".padEnd(14)} ${fixed(stepSeconds - ioSeconds, 2)} s: decoding, schema checks, the fold, consuming`,
  );
}

async function tearDown({ producer, admin, cloudant, topics, databases }: Setup): Promise<void> {
  await producer.disconnect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  for (const db of databases) await cloudant.deleteDatabase({ db }).catch(() => undefined);
  await closeAllClients();
}

async function naiveApply(cloudant: Cloudant, db: string, producer: Producer, outTopic: string, message: Value) {
  const event = JSON.parse(message.value) as { id: string; source: string; subject: string; data: { units: number } };
  const recordId = `idem:${event.source}:${event.id}`;
  const claim = await cloudant
    .putDocument({ db, docId: recordId, document: { status: "INPROGRESS", payloadHash: hashPayload(event.data) } })
    .catch((err: unknown) => {
      if (statusOf(err) === 409) return undefined; // seen before
      throw err;
    });
  if (!claim) return;
  const entityId = `entity:${event.subject}`;
  const entity = await cloudant
    .getDocument({ db, docId: entityId })
    .then((r) => r.result as { _rev: string; total: number })
    .catch(() => undefined);
  const total = (entity?.total ?? 0) + event.data.units;
  await cloudant.putDocument({ db, docId: entityId, document: { ...(entity ? { _rev: entity._rev } : {}), total } });
  await cloudant.putDocument({
    db,
    docId: recordId,
    document: { _rev: claim.result.rev, status: "COMPLETED", result: { total } },
  });
  await producer.send({ topic: outTopic, messages: [{ key: event.subject, value: JSON.stringify({ total }) }] });
}

/** Wraps an object so that the time spent in each of its async methods adds up in `spent`. */
function timedCalls<T extends object>(target: T, spent: Map<string, number>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await value.apply(object, args);
        } finally {
          const name = String(property);
          spent.set(name, (spent.get(name) ?? 0) + performance.now() - t0);
        }
      };
    },
  });
}

const STEP_OPENWHISK = `step kit, OpenWhisk's feed (batch landed), batches of ${BATCH}`;
const STEP_LOSSLESS = `step kit, lossless feed (no landing), batches of ${BATCH}`;
const STORE_CEILING = "store ceiling: one bulk read + one bulk write per batch";

function printTable(results: Row[]) {
  const rate = (name: string) => {
    const r = results.find((result) => result.name === name);
    return r ? EVENTS / r.seconds : Number.NaN;
  };
  console.log(`\n${EVENTS} events, ${ENTITIES} entities, batches of ${BATCH}:\n`);
  console.log("| variant | events/s | batch p50 ms | batch p99 ms | peak RSS MiB |");
  console.log("|---|---:|---:|---:|---:|");
  for (const r of results) {
    const { p50, p99 } = summarizeLatencies(r.latencies);
    console.log(
      `| ${r.name} | ${fixed(rate(r.name), 0)} | ${fixed(p50)} | ${fixed(p99)} | ${fixed(r.peakRssMiB, 0)} |`,
    );
  }
  const naive = rate("naive per-message idempotency");
  const ceiling = rate(STORE_CEILING);
  for (const step of [STEP_OPENWHISK, STEP_LOSSLESS]) {
    console.log(
      `\n${step}:\n  / store ceiling ${fixed(rate(step) / ceiling, 2)}; / naive baseline ${fixed(rate(step) / naive)}x; / bare pipe ${fixed(rate(step) / rate("bare KafkaJS pipe"), 2)}`,
    );
  }
}

export default main;
