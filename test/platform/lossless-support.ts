// What the lossless feed's platform tests share: a local OpenWhisk with the feed built in, a topic, a trigger on the
// feed, a recording action behind one or more rules, and ways to read what the action saw.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import type { Admin } from "kafkajs";
import openwhisk from "openwhisk";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { readRange } from "../../lib/kafka/read-range.ts";
import type { LocalOptionsInput } from "../../local/config.ts";
import { startLocalOpenWhisk } from "../../local/server.ts";
import type { ProviderSettings } from "../../triggers/lossless/lossless-settings.ts";
import { FEED_ACTION, FEED_PACKAGE, LosslessFeedProvider } from "../../triggers/lossless/provider.ts";
import { kafkaSettings, testCloudant, testKafka, uniqueName } from "../support/services.ts";

export const FEED = `/whisk.system/${FEED_PACKAGE}/${FEED_ACTION}`;

/**
 * An action that records each batch it is given in a file (one line per call: "ok" or "fail", the partition:offset:value
 * of each message, and when the call began and ended) and fails while the call count is below `failFirst`, or while a
 * message's value starts with "poison" (unless `acceptPoison`). It takes `sleepMs` before answering.
 */
export const RECORDING_ACTION = `
const fs = require("fs");
async function main(params) {
  const began = Date.now();
  const calls = fs.existsSync(params.counter) ? Number(fs.readFileSync(params.counter, "utf8")) + 1 : 1;
  fs.writeFileSync(params.counter, String(calls));
  const messages = params.messages || [];
  const poisoned = !params.acceptPoison && messages.some((m) => String(m.value).startsWith("poison"));
  const fail = calls <= (params.failFirst || 0) || poisoned;
  if (params.sleepMs) await new Promise((resolve) => setTimeout(resolve, params.sleepMs));
  const line = (fail ? "fail " : "ok ") + messages.map((m) => m.partition + ":" + m.offset + ":" + m.value).join(",");
  fs.appendFileSync(params.log, line + " " + began + "-" + Date.now() + "\\n");
  // echoError: the error holds the whole batch, as a step's answer to a malformed batch does.
  return fail ? { error: params.echoError ? { failed: messages } : "asked to fail" } : { applied: messages.length };
}`;

/** Puts the recording action in place, created or changed, with these parameters (its files and how to behave). */
export async function putRecordingAction(client: ReturnType<typeof openwhisk>, params: Record<string, unknown>) {
  await client.actions.update({ name: "record", action: RECORDING_ACTION, kind: "nodejs:20", params } as never);
}

export interface Setup {
  topic: string;
  deadLetters: string;
  db: string;
  files: { log: string; counter: string };
  client: ReturnType<typeof openwhisk>;
  admin: Admin;
  apiHost: string;
  auth: string;
  /** The trigger's name, unique: its consumer group /guest/<trigger> is shared by nothing else. */
  trigger: string;
  group: string;
  provider: LosslessFeedProvider;
  /** What the local OpenWhisk and the feed said. */
  said: string[];
}

export interface SetupOptions {
  partitions: number;
  /** False: the built-in only registers; providers run elsewhere. */
  consume?: boolean;
  failFirst?: number;
  /** The key that seals the registrations' secrets: every provider of a test shares it. */
  key: Buffer;
  /** The platform's limits (default: the local OpenWhisk's, OpenWhisk standalone's). */
  platform?: LocalOptionsInput;
  provider?: Partial<ProviderSettings>;
  /** Rules from the trigger to the recording action: `record`, then `record-2`... */
  rules?: number;
  /** The feed's own parameters beside the topic, brokers and dead-letter topic. */
  feed?: Record<string, unknown>;
  action?: Record<string, unknown>;
}

/** The topic a trigger consumes and its dead-letter topic (`<topic>.dead`), and an admin client kept for the test. */
export async function feedTopics(t: ExecutionContext, topic: string, partitions: number): Promise<Admin> {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, [
    { topic, partitions },
    { topic: `${topic}.dead`, partitions: 1 },
  ]);
  return admin;
}

export async function setup(t: ExecutionContext, options: SetupOptions): Promise<Setup> {
  const topic = uniqueName("lossless");
  const deadLetters = `${topic}.dead`;
  const trigger = uniqueName("records");
  const db = uniqueName("lossless-feed");
  const admin = await feedTopics(t, topic, options.partitions);
  const said: string[] = [];
  const provider = new LosslessFeedProvider({
    cloudant: testCloudant(),
    registrationsKey: options.key,
    db,
    consume: options.consume ?? true,
    settings: { retryBaseMs: 200, retryMaxMs: 1_000, followTimeoutMs: 20_000, syncMs: 300, ...options.provider },
  });
  const ow = await startLocalOpenWhisk({ port: 0, log: (line) => said.push(line), ...options.platform }, [provider]);
  t.teardown(async () => {
    await ow.stop();
    await testCloudant()
      .deleteDatabase({ db })
      .catch(() => undefined);
  });
  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  const dir = mkdtempSync(join(tmpdir(), "lossless-"));
  const files = { log: join(dir, "calls.log"), counter: join(dir, "calls.count") };
  writeFileSync(files.log, "");
  await putRecordingAction(client, { ...files, failFirst: options.failFirst ?? 0, ...options.action });
  await client.triggers.create({ name: trigger, trigger: { annotations: [{ key: "feed", value: FEED }] } as never });
  await (client.feeds as unknown as { create(o: object): Promise<unknown> })
    .create({
      feedName: FEED,
      trigger,
      params: {
        topic,
        brokers: kafkaSettings().brokers,
        deadLetterTopic: deadLetters,
        batchMs: 20,
        maxAttempts: 3,
        ...options.feed,
      },
    })
    .catch((err: { error?: { response?: { result?: unknown } } }) => {
      throw new Error(`the feed's CREATE failed: ${JSON.stringify(err.error?.response?.result ?? err)}`);
    });
  for (let i = 1; i <= (options.rules ?? 1); i += 1) {
    await client.rules.create({ name: `${trigger}-record${i > 1 ? `-${i}` : ""}`, trigger, action: "record" });
  }
  return {
    topic,
    deadLetters,
    db,
    files,
    client,
    admin,
    apiHost: ow.apiHost,
    auth: ow.auth,
    trigger,
    group: `/guest/${trigger}`,
    provider,
    said,
  };
}

export type Call = { ok: boolean; entries: string[]; began: number; ended: number };

export const calls = (log: string): Call[] =>
  readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [status, list = "", when = "0-0"] = line.split(" ");
      const [began, ended] = when.split("-").map(Number);
      return { ok: status === "ok", entries: list.split(",").filter(Boolean), began: began ?? 0, ended: ended ?? 0 };
    });

/** partition:offset:value of every record a successful call applied, in the order of the calls. */
export const applied = (log: string) =>
  calls(log)
    .filter((c) => c.ok)
    .flatMap((c) => c.entries);

/** Per partition, the offsets in the order they were first applied: equal to their sorted order when in order. */
export function firstApplied(log: string, partition: number): { firsts: number[]; sorted: number[] } {
  const firsts = [
    ...new Set(
      applied(log)
        .filter((e) => e.startsWith(`${partition}:`))
        .map((e) => Number(e.split(":")[1])),
    ),
  ];
  return { firsts, sorted: [...firsts].sort((a, b) => a - b) };
}

export async function produce(topic: string, records: { partition: number; value: string }[]) {
  const producer = testKafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: records.map((r) => ({ partition: r.partition, value: r.value })) });
  await producer.disconnect();
}

/** Every record's value on the topic, from the beginning. */
export async function readAll(topic: string): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const values: string[] = [];
  for (const { partition, low, high } of ends) {
    if (Number(high) <= Number(low)) continue;
    const { records } = await readRange(testKafka(), topic, partition, Number(low), Number(high) - 1);
    values.push(...records.map((record) => record.value?.toString("utf8") ?? ""));
  }
  return values;
}

export async function committed(admin: Admin, group: string, topic: string): Promise<number[]> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (entry?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}
