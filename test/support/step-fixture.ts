// A small domain-free step for the kit's tests: tallies per counter, on real topics and a real database that
// each test creates for itself.
import type { ExecutionContext } from "ava";
import type { Producer } from "kafkajs";
import * as z from "zod";
import { defineEventCatalog } from "../../lib/events/catalog.ts";
import type { CloudEvent } from "../../lib/events/envelope.ts";
import { createIdempotentProducer, ensureTopics } from "../../lib/kafka/client.ts";
import { ensureStepIndexes } from "../../lib/step/documents.ts";
import { defineEntityStep, defineStreamStep, type EntityStepSpec, type StreamStepSpec } from "../../lib/step/index.ts";
import type { BatchIO } from "../../lib/step/io.ts";
import type { RelayIO } from "../../lib/step/relay.ts";
import { ensureDatabase } from "../../lib/store/client.ts";
import { testCloudant, testKafka, uniqueName } from "./services.ts";

export const catalog = defineEventCatalog({
  "tally.added": z.object({ amount: z.number().int() }),
  "tally.changed": z.object({ total: z.number().int(), count: z.number().int() }),
  "tally.noted": z.object({ note: z.string() }),
});

export interface Tally {
  total: number;
  count: number;
}

/** Adds amounts per counter; 13 is a poison amount the handler always refuses. */
export function tallySpec(names: TestNames, overrides: Partial<EntityStepSpec<Tally>> = {}): EntityStepSpec<Tally> {
  return {
    name: "tally.add",
    catalog,
    handles: ["tally.added"],
    database: names.database,
    handle: (event, state) => {
      const { amount } = event.data as { amount: number };
      if (amount === 13) throw new Error("13 is unlucky");
      const next = { total: (state?.total ?? 0) + amount, count: (state?.count ?? 0) + 1 };
      return { state: next, emit: [{ type: "tally.changed", data: next }] };
    },
    routes: { "tally.changed": names.out },
    topics: { retry: names.retry, deadLetter: names.deadLetter },
    ...overrides,
  };
}

export interface TestNames {
  database: string;
  in: string;
  out: string;
  retry: string;
  deadLetter: string;
}

export interface StepWorld {
  names: TestNames;
  io: (overrides?: Partial<BatchIO>) => BatchIO;
  /** What the relay runs with: the step's I/O, Kafka, the triggers' namespace and a lease holder. */
  relayIO: (overrides?: Partial<RelayIO>) => RelayIO;
  producer: Producer;
}

/** Fresh topics and database for one test; everything is torn down with the test. */
export async function stepWorld(t: ExecutionContext): Promise<StepWorld> {
  const id = uniqueName("kit");
  const names: TestNames = {
    database: id,
    in: `${id}.in`,
    out: `${id}.out`,
    retry: `${id}.retry`,
    deadLetter: `${id}.dlq`,
  };
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    [names.in, names.out, names.retry, names.deadLetter].map((topic) => ({ topic, partitions: 2 })),
  );
  await admin.disconnect();
  const cloudant = testCloudant();
  await ensureDatabase(cloudant, names.database);
  await ensureStepIndexes(cloudant, names.database);
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  t.teardown(async () => {
    await producer.disconnect();
    await cloudant.deleteDatabase({ db: names.database }).catch(() => undefined);
  });
  const io = (overrides: Partial<BatchIO> = {}): BatchIO => ({
    cloudant,
    producer: async () => producer,
    now: Date.now,
    deadline: Date.now() + 60_000,
    ...overrides,
  });
  const relayIO = (overrides: Partial<RelayIO> = {}): RelayIO => ({
    ...io(),
    kafka,
    namespace: "test",
    holder: "test",
    ...overrides,
  });
  return { names, io, relayIO, producer };
}

let sequence = 0;

export function tallyAdded(
  counter: string,
  amount: number,
  id = `evt-${++sequence}-${Math.random().toString(36).slice(2, 8)}`,
) {
  return catalog.build("tally.added", {
    id,
    source: "/test/producer",
    subject: counter,
    data: { amount },
    time: new Date().toISOString(),
    sagaid: `saga-${counter}`,
  });
}

/** The feed's payload for these values, as string values (isJSONData=false), offsets counting from `firstOffset`. */
/** What a crash point throws: the container died there. */
export class Crash extends Error {}

/** The step's world as an activation that dies right after its write, before it publishes: the outbox stays. */
export function killedAfterWrite(world: StepWorld, death: Error = new Error("killed")) {
  return world.io({
    crash: {
      afterWrite: () => {
        throw death;
      },
    },
  });
}

export function feedParams(topic: string, values: unknown[], firstOffset = 0) {
  return {
    messages: values.map((value, i) => ({
      topic,
      partition: 0,
      offset: firstOffset + i,
      key: null,
      value: typeof value === "string" ? value : JSON.stringify(value),
    })),
  };
}

export function tallyStep(names: TestNames, overrides: Partial<EntityStepSpec<Tally>> = {}) {
  return defineEntityStep(tallySpec(names, overrides));
}

export async function entityState(world: StepWorld, counter: string): Promise<Tally | undefined> {
  const doc = await testCloudant()
    .getDocument({ db: world.names.database, docId: `entity:${counter}` })
    .then((r) => r.result as { state: Tally; outbox: unknown[] })
    .catch(() => undefined);
  return doc?.state;
}

export type Event = CloudEvent<string, unknown>;

/** An event-sourced tally per counter (a stream): each input's amount is added and a tally.changed emitted. */
export function tallyStreamStep(names: TestNames, overrides: Partial<StreamStepSpec<Tally>> = {}) {
  const spec: StreamStepSpec<Tally> = {
    name: "tally.stream",
    catalog,
    handles: ["tally.added"],
    database: names.database,
    streamOf: (event) => event.subject,
    evolve: (state, event) => {
      if (event.type !== "tally.added") return state ?? { total: 0, count: 0 };
      const { amount } = event.data as { amount: number };
      return { total: (state?.total ?? 0) + amount, count: (state?.count ?? 0) + 1 };
    },
    decide: (event, state) => {
      const { amount } = event.data as { amount: number };
      return [{ type: "tally.changed", data: { total: (state?.total ?? 0) + amount, count: (state?.count ?? 0) + 1 } }];
    },
    routes: { "tally.changed": names.out },
    topics: { retry: names.retry, deadLetter: names.deadLetter },
    ...overrides,
  };
  return defineStreamStep(spec);
}

/** A padded event: full-size feed batches (900 KB) without thousands of entities. */
export function paddedTallyAdded(counter: string, amount: number, padBytes: number) {
  return { ...tallyAdded(counter, amount), padding: "x".repeat(padBytes) };
}
