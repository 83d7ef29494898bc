// The lossless Kafka feed on the real Kafka and store, through the local OpenWhisk and the real clients: it commits
// a batch only after every rule's action succeeded, fires a failed batch again, dead-letters it after its attempts
// while other partitions flow, and loses nothing when a provider process is killed.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import openwhisk from "openwhisk";
import { startLocalOpenWhisk } from "../../local/server.ts";
import { LETTER_BYTES } from "../../triggers/lossless/deliver.ts";
import { LosslessFeedProvider } from "../../triggers/lossless/provider.ts";
import { Registrations } from "../../triggers/lossless/registrations.ts";
import { runScript } from "../support/run-script.ts";
import { kafkaSettings, scratchDatabase, storeEnv, testCloudant, testKafka, uniqueName } from "../support/services.ts";
import { eventually, feedError } from "./helpers.ts";
import {
  applied,
  calls,
  committed,
  FEED,
  feedTopics,
  firstApplied,
  produce,
  putRecordingAction,
  readAll,
  setup,
} from "./lossless-support.ts";

/** Seals the registrations' secrets: every provider of a test shares it. */
const FEED_KEY = randomBytes(32);

test("an action that fails twice and then succeeds: its batch is applied once, in order, and committed only then", async (t) => {
  const s = await setup(t, { partitions: 1, consume: true, failFirst: 2, key: FEED_KEY });
  await produce(
    s.topic,
    Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `r${i}` })),
  );
  // While it fails, nothing may be committed: whenever no call has succeeded yet, the offset is where CREATE pinned it.
  for (let look = 0; look < 50 && applied(s.files.log).length === 0; look += 1) {
    const offsets = await committed(s.admin, s.group, s.topic);
    // -1 or 0: the group has committed nothing past where CREATE pinned it (the topic was empty).
    if (applied(s.files.log).length === 0)
      t.true((offsets[0] ?? 0) <= 0, `nothing committed before the success: ${offsets}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  await eventually(async () => (applied(s.files.log).length >= 10 ? true : undefined), 30_000);
  await eventually(async () => ((await committed(s.admin, s.group, s.topic))[0] === 10 ? true : undefined));
  const all = calls(s.files.log);
  t.deepEqual(
    all.slice(0, 2).map((c) => c.ok),
    [false, false],
    "the first two calls failed",
  );
  t.deepEqual(
    applied(s.files.log),
    Array.from({ length: 10 }, (_, i) => `0:${i}:r${i}`),
    "each record applied once, in order",
  );
  t.deepEqual(all[0]?.entries, all[2]?.entries, "the failed batch was fired again, the same");
});

test("a batch that keeps failing goes to the dead-letter topic after its attempts; other partitions keep flowing", async (t) => {
  const s = await setup(t, { partitions: 2, consume: true, key: FEED_KEY });
  await produce(s.topic, [
    { partition: 0, value: "poison" },
    ...Array.from({ length: 5 }, (_, i) => ({ partition: 1, value: `p1-${i}` })),
  ]);
  // Partition 1 flows while partition 0's batch is being retried.
  await eventually(
    async () => (applied(s.files.log).filter((e) => e.startsWith("1:")).length === 5 ? true : undefined),
    20_000,
  );
  const letters: Record<string, unknown>[] = [];
  const consumer = testKafka().consumer({ groupId: uniqueName("dead-reader") });
  await consumer.connect();
  await consumer.subscribe({ topic: s.deadLetters, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void letters.push(JSON.parse(String(message.value))) });
  t.teardown(() => consumer.disconnect());
  const letter = await eventually(async () => letters[0], 30_000);
  t.like(letter, { trigger: s.group, topic: s.topic, partition: 0, fromOffset: 0, toOffset: 0, attempts: 3 });
  t.is((letter.failures as { error: string }[])[0]?.error, "asked to fail");
  t.regex(((letter.activationIds as string[]) ?? [])[0] ?? "", /^[0-9a-f]{32}$/);
  t.deepEqual(
    (letter.messages as { value: string }[]).map((m) => m.value),
    ["poison"],
  );
  // Dead-lettered, the partition moves on: its next record is applied, and the offset is committed past both.
  await produce(s.topic, [{ partition: 0, value: "after" }]);
  await eventually(async () => (applied(s.files.log).includes("0:1:after") ? true : undefined), 20_000);
  t.is(calls(s.files.log).filter((c) => c.entries.includes("0:0:poison")).length, 3, "three attempts, then the letter");
  await eventually(async () => ((await committed(s.admin, s.group, s.topic))[0] === 2 ? true : undefined));

  // The operator replays the letter: it fails again while the action still refuses it, and succeeds once fixed.
  const replayDb = scratchDatabase(t, "feed-replays");
  const env = { ...process.env, __OW_API_HOST: s.apiHost, __OW_API_KEY: s.auth };
  const deadletters = (args: string[]) =>
    runScript("scripts/deadletters.ts", ["feed", ...args, "--topic", s.deadLetters, "--database", replayDb], env);
  const listed = await deadletters(["list"]);
  t.is(listed.code, 0, listed.stderr);
  t.regex(
    listed.stdout,
    new RegExp(`^0:0 .*${s.group}  ${s.topic}:0:0\\.\\.0  1 records  attempts 3  replays 0  asked to fail`),
  );
  const refused = await deadletters(["replay", "0:0"]);
  t.is(refused.code, 1, refused.stdout);
  t.regex(refused.stderr, /not replayed: 0:0: failed: guest\/record \([0-9a-f]{32}\): asked to fail/);
  await putRecordingAction(s.client, { ...s.files, acceptPoison: true });
  const replayed = await deadletters(["replay", "0:0"]);
  t.is(replayed.code, 0, replayed.stderr);
  t.regex(replayed.stdout, new RegExp(`replayed 0:0: ${s.group} took it \\([0-9a-f]{32}\\)`));
  t.true(applied(s.files.log).includes("0:0:poison"), "the letter's batch was applied once replayed");
  const shown = JSON.parse((await deadletters(["show", "0:0"])).stdout) as { replays: { outcome: string }[] };
  t.deepEqual(
    shown.replays.map((replay) => replay.outcome),
    ["failed", "succeeded"],
    "both replays recorded",
  );
});

test("a full-size batch that keeps failing, its action answering with the whole batch, is dead-lettered in letters Kafka takes; the partition moves on", async (t) => {
  t.timeout(120_000);
  const s = await setup(t, { partitions: 1, consume: true, key: FEED_KEY });
  await putRecordingAction(s.client, { ...s.files, echoError: true });
  const total = 1_400; // about 900 KB: a full fire, and an error as large
  const pad = "x".repeat(620);
  for (let i = 0; i < total; i += 700)
    await produce(
      s.topic,
      Array.from({ length: 700 }, (_, j) => ({ partition: 0, value: `poison-${i + j}-${pad}` })),
    );
  await eventually(async () => ((await committed(s.admin, s.group, s.topic))[0] === total ? true : undefined), 90_000);
  const letters = (await readAll(s.deadLetters)).map((value) => ({
    bytes: Buffer.byteLength(value),
    ...JSON.parse(value),
  }));
  t.true(letters.length >= 1);
  t.true(
    letters.every((letter) => letter.bytes <= LETTER_BYTES),
    `letter sizes: ${letters.map((l) => l.bytes)}`,
  );
  t.deepEqual(
    letters.flatMap((letter) => (letter.messages as { offset: number }[]).map((m) => m.offset)),
    Array.from({ length: total }, (_, i) => i),
    "every record of the batch in a letter, once, in order",
  );
  t.deepEqual(applied(s.files.log), [], "nothing was applied");
});

test("a full-size batch (2,000 records, 1.2 MB) is fired in parts under the 900 KB cap, each record once and in order", async (t) => {
  t.timeout(120_000);
  const s = await setup(t, { partitions: 1, consume: true, key: FEED_KEY });
  const pad = "x".repeat(600);
  const total = 2_000;
  for (let i = 0; i < total; i += 500) {
    await produce(
      s.topic,
      Array.from({ length: 500 }, (_, j) => ({ partition: 0, value: `${i + j}-${pad}` })),
    );
  }
  await eventually(async () => (applied(s.files.log).length >= total ? true : undefined), 90_000, 500);
  const offsets = applied(s.files.log).map((entry) => Number(entry.split(":")[1]));
  t.deepEqual(
    offsets,
    Array.from({ length: total }, (_, i) => i),
    "each record once, in offset order",
  );
  const fires = calls(s.files.log);
  t.true(fires.length >= 2, `a 1.2 MB backlog cannot go in one fire: ${fires.length}`);
  // About 650 bytes of the provider's JSON per record: a fire of 900 KB holds fewer than 1,400.
  t.true(
    fires.every((call) => call.entries.length < 1_400),
    `records per fire: ${fires.map((c) => c.entries.length).join(", ")}`,
  );
});

test("a trigger deleted without its feed's DELETE: the provider's next fire meets a 404 and forgets the registration, committing nothing", async (t) => {
  const s = await setup(t, { partitions: 1, consume: true, key: FEED_KEY });
  const registrations = new Registrations(testCloudant(), s.db);
  t.truthy(await registrations.get(s.group));
  await s.client.rules.delete({ name: `${s.trigger}-record` });
  await s.client.triggers.delete({ name: s.trigger });
  await produce(s.topic, [{ partition: 0, value: "orphan" }]);
  await eventually(async () => ((await registrations.get(s.group)) === undefined ? true : undefined), 30_000);
  t.deepEqual(applied(s.files.log), []);
  const offsets = await committed(s.admin, s.group, s.topic);
  t.true((offsets[0] ?? 0) <= 0, `nothing committed for the orphaned record: ${offsets}`);
});

test("the store keeps the owner's key sealed: no copy in plain text, and a registration pointed at another API host is refused", async (t) => {
  const s = await setup(t, { partitions: 1, consume: true, key: FEED_KEY });
  const registrations = new Registrations(testCloudant(), s.db);
  const stored = await registrations.get(s.group);
  const text = JSON.stringify(stored);
  for (const part of s.auth.split(":")) t.false(text.includes(part), "no part of the key is in the store");
  t.is(stored?.sealed.alg, "A256GCM");

  // Someone who can write the store points the registration elsewhere: the provider fires nothing for it.
  const { _rev, changedAt, ...rest } = stored as NonNullable<typeof stored>;
  await registrations.put({ ...rest, apiHost: "http://127.0.0.1:9" }, _rev);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await produce(s.topic, [{ partition: 0, value: "not-for-the-stranger" }]);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  t.deepEqual(applied(s.files.log), [], "nothing was fired with the key");

  // Put back as it was registered, the trigger flows again from where it was left.
  const edited = await registrations.get(s.group);
  await registrations.put({ ...rest, apiHost: s.apiHost }, edited?._rev);
  await eventually(async () => (applied(s.files.log).length === 1 ? true : undefined), 30_000);
  t.is(applied(s.files.log)[0]?.split(":")[2], "not-for-the-stranger");
});

test("a redeploy that deletes and recreates the rule while records flow: nothing is lost", async (t) => {
  const s = await setup(t, { partitions: 2, consume: true, key: FEED_KEY });
  const total = 200;
  for (let i = 0; i < total; i += 20) {
    await produce(
      s.topic,
      Array.from({ length: 20 }, (_, j) => ({ partition: (i + j) % 2, value: `v${i + j}` })),
    );
    // The rule is gone for a while, as during a redeploy: fires answer 204 and are held, not committed.
    if (i === 60) await s.client.rules.delete({ name: `${s.trigger}-record` });
    if (i === 140) await s.client.rules.create({ name: `${s.trigger}-record`, trigger: s.trigger, action: "record" });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await eventually(async () => (new Set(applied(s.files.log)).size >= total ? true : undefined), 60_000, 300);
  t.is(
    new Set(applied(s.files.log).map((entry) => entry.split(":")[2])).size,
    total,
    "every record reached the action",
  );
});

test("feed lifecycle: refusals name the parameter; READ, PAUSE, UNPAUSE, UPDATE and DELETE act on the registration", async (t) => {
  const s = await setup(t, { partitions: 1, consume: true, key: FEED_KEY });
  const feeds = s.client.feeds as unknown as {
    create(o: object): Promise<unknown>;
    get(o: object): Promise<{ response: { result: { config: Record<string, unknown>; status: { active: boolean } } } }>;
    update(o: object): Promise<unknown>;
    delete(o: object): Promise<unknown>;
  };
  await s.client.triggers.create({ name: "other", trigger: { annotations: [{ key: "feed", value: FEED }] } as never });
  const refused = (params: object) => feedError(feeds.create({ feedName: FEED, trigger: "other", params }));
  const base = { topic: s.topic, brokers: kafkaSettings().brokers, deadLetterTopic: s.deadLetters };
  t.is(await refused({ brokers: base.brokers }), "You must supply a 'topic' parameter.");
  t.is(await refused({ ...base, batchMs: -1 }), "'batchMs' must be a whole number from 0 to 10000, not -1.");
  t.is(
    await refused({ ...base, maxAttempts: "many" }),
    "'maxAttempts' must be a whole number from 1 to 100, not \"many\".",
  );
  t.is(
    await refused({ ...base, topic: "no-such-topic-here" }),
    "Topic does not exist. You must create the topic first: no-such-topic-here",
  );
  const read = await feeds.get({ feedName: FEED, trigger: s.trigger });
  t.like(read.response.result.config, { triggerName: s.group, topic: s.topic, batchMs: 20, maxAttempts: 3 });
  t.false("authKey" in read.response.result.config, "the key is never shown");
  t.false("sealedKey" in read.response.result.config, "nor its sealed form");
  const lifecycle = (lifecycleEvent: string) =>
    s.client.actions.invoke({
      name: FEED,
      params: { lifecycleEvent, triggerName: s.group, authKey: s.auth },
      blocking: true,
    });
  await lifecycle("PAUSE");
  t.false((await feeds.get({ feedName: FEED, trigger: s.trigger })).response.result.status.active);
  await lifecycle("UNPAUSE");
  t.true((await feeds.get({ feedName: FEED, trigger: s.trigger })).response.result.status.active);
  await feeds.update({ feedName: FEED, trigger: s.trigger, params: { maxAttempts: 7 } });
  t.like((await feeds.get({ feedName: FEED, trigger: s.trigger })).response.result.config, { maxAttempts: 7 });
  t.is(
    await feedError(feeds.update({ feedName: FEED, trigger: s.trigger, params: { topic: "elsewhere" } })),
    "'topic' cannot be updated: delete the trigger and create it again.",
  );
  await feeds.delete({ feedName: FEED, trigger: s.trigger });
  t.is(await feedError(feeds.get({ feedName: FEED, trigger: s.trigger })), "Error: missing");
});

function providerProcess(db: string, log: string, apiHost: string): ChildProcess {
  const out = openSync(log, "a");
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/feed-provider.ts"], {
    env: {
      ...process.env,
      ...storeEnv(),
      LOSSLESS_FEED_KEY: FEED_KEY.toString("base64"),
      LOSSLESS_FEED_API_HOST: apiHost,
      LOSSLESS_FEED_DB: db,
      LOSSLESS_FEED_SYNC_MS: "300",
      LOSSLESS_FEED_RETRY_BASE_MS: "200",
    },
    stdio: ["ignore", out, out],
  });
  return child;
}

test("two provider processes share the load; one killed mid-run and started again: nothing is lost", async (t) => {
  t.timeout(180_000);
  const s = await setup(t, { partitions: 4, consume: false, key: FEED_KEY });
  const providerLog = join(tmpdir(), `${s.db}.log`);
  t.log(`the providers' log: ${providerLog}`);
  const children: ChildProcess[] = [
    providerProcess(s.db, providerLog, s.apiHost),
    providerProcess(s.db, providerLog, s.apiHost),
  ];
  t.teardown(() => {
    for (const child of children) child.kill("SIGKILL");
  });
  // Both consuming before the run: each has started and joined the group.
  await eventually(
    async () =>
      readFileSync(providerLog, "utf8").match(/consuming for the registrations/g)?.length === 2 ? true : undefined,
    30_000,
  );
  const total = 600;
  for (let i = 0; i < total; i += 30) {
    await produce(
      s.topic,
      Array.from({ length: 30 }, (_, j) => ({ partition: (i + j) % 4, value: `v${i + j}` })),
    );
    // A third of the way in, with batches in flight, one provider is killed; two thirds in, another starts.
    if (i === 180) children[0]?.kill("SIGKILL");
    if (i === 390) children.push(providerProcess(s.db, providerLog, s.apiHost));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await eventually(async () => (new Set(applied(s.files.log)).size >= total ? true : undefined), 120_000, 500);
  const seen = new Set(applied(s.files.log).map((entry) => entry.split(":")[2]));
  t.is(seen.size, total, "every record reached the action");
  // Per partition, the first application of each offset comes in offset order.
  for (let partition = 0; partition < 4; partition += 1) {
    const { firsts, sorted } = firstApplied(s.files.log, partition);
    t.deepEqual(firsts, sorted, `partition ${partition} in order`);
  }
});

test("installed as an action in a package of an OpenWhisk (npm run feed-provider -- install), with a provider beside it, it fires like the built-in", async (t) => {
  const topic = uniqueName("installed");
  const db = uniqueName("installed-feed");
  await feedTopics(t, topic, 1);
  // An OpenWhisk without the built-in: the feed is only what install creates.
  const ow = await startLocalOpenWhisk({ port: 0 }, []);
  const provider = new LosslessFeedProvider({
    cloudant: testCloudant(),
    registrationsKey: FEED_KEY,
    api: { url: ow.apiHost },
    db,
    settings: { syncMs: 300 },
  });
  t.teardown(async () => {
    await provider.stop();
    await ow.stop();
    await testCloudant()
      .deleteDatabase({ db })
      .catch(() => undefined);
  });
  const installed = await runScript("scripts/feed-provider.ts", ["install"], {
    ...process.env,
    OW_APIHOST: ow.apiHost,
    OW_AUTH: ow.auth,
    LOSSLESS_FEED_KEY: FEED_KEY.toString("base64"),
    LOSSLESS_FEED_DB: db,
  });
  t.is(installed.code, 0, installed.stderr);
  t.is(installed.stdout.trim(), "ok: the feed is /guest/lossless/kafkaFeed; run npm run feed-provider beside it");
  await provider.start();
  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  const dir = mkdtempSync(join(tmpdir(), "installed-"));
  const files = { log: join(dir, "calls.log"), counter: join(dir, "calls.count") };
  writeFileSync(files.log, "");
  await putRecordingAction(client, files);
  const trigger = uniqueName("installed-records");
  await client.triggers.create({
    name: trigger,
    trigger: { annotations: [{ key: "feed", value: "/guest/lossless/kafkaFeed" }] } as never,
  });
  await (client.feeds as unknown as { create(o: object): Promise<unknown> }).create({
    feedName: "/guest/lossless/kafkaFeed",
    trigger,
    params: { topic, brokers: kafkaSettings().brokers, deadLetterTopic: `${topic}.dead`, batchMs: 20 },
  });
  await client.rules.create({ name: `${trigger}-record`, trigger, action: "record" });
  await produce(
    topic,
    Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `i${i}` })),
  );
  await eventually(async () => (applied(files.log).length >= 5 ? true : undefined), 30_000);
  t.deepEqual(
    applied(files.log),
    Array.from({ length: 5 }, (_, i) => `0:${i}:i${i}`),
  );
});
