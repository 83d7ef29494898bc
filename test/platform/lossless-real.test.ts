// The lossless feed on a real deployment's terms, on the real Kafka, store and local OpenWhisk: upstream's default
// namespace limits met by a burst, a rule disabled during a redeploy, a provider that loses its session, records
// that retention removed and partitions added after CREATE, a key rotated, an API host that answers garbage once.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import openwhisk from "openwhisk";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { readRange } from "../../lib/kafka/read-range.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { startLocalOpenWhisk } from "../../local/server.ts";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { LosslessFeedProvider } from "../../triggers/lossless/provider.ts";
import { Registrations } from "../../triggers/lossless/registrations.ts";
import { kafkaSettings, storeEnv, storeSettings, testCloudant, testKafka, uniqueName } from "../support/services.ts";
import { eventually, feedError } from "./helpers.ts";
import {
  applied,
  calls,
  committed,
  FEED,
  firstApplied,
  produce,
  putRecordingAction,
  readAll,
  setup,
} from "./lossless-support.ts";

const key = randomBytes(32);

/** Records reached the action once per batch, in order: partition:offset:value of each, no gaps. */
const distinct = (log: string) => new Set(applied(log).map((entry) => entry.split(":").slice(0, 2).join(":")));

test("upstream's default limits (60 invocations and 60 fires a minute, 30 concurrent) met by a burst: every 429 held, nothing lost or dead-lettered", async (t) => {
  t.timeout(420_000);
  const s = await setup(t, {
    partitions: 4,
    key,
    rules: 2,
    // Batches of about 12 records: 600 records are over 50 fires, 100 invocations with two rules.
    feed: { batchBytes: 1_024, maxAttempts: 2 },
    platform: { limits: { invokesPerMinute: 60, firesPerMinute: 60, concurrent: 30 } },
    provider: { throttleHoldMs: 60_000 },
  });
  const total = 600;
  await produce(
    s.topic,
    Array.from({ length: total }, (_, i) => ({ partition: i % 4, value: `b${i}` })),
  );
  await eventually(async () => (distinct(s.files.log).size >= total ? true : undefined), 400_000, 1_000);
  t.is(distinct(s.files.log).size, total, "every record reached the action");
  t.deepEqual(await readAll(s.deadLetters), [], "nothing dead-lettered");
  const held = s.said.filter((line) => /held \(.*Too many requests/.test(line));
  t.true(held.length > 0, "the throttles were met, and held");
  t.log(`${held.length} batches held for a 429; ${calls(s.files.log).length} calls; first: ${held[0]}`);
  t.false(
    s.said.some((line) => /attempt \d+ failed/.test(line)),
    "no throttle was counted as a failed attempt",
  );
});

test("one of two rules disabled, as during a redeploy: every record reaches the active rule once per batch, nothing dead-lettered", async (t) => {
  t.timeout(120_000);
  const s = await setup(t, { partitions: 2, key, rules: 2 });
  await s.client.rules.disable({ name: `${s.trigger}-record-2` });
  const total = 60;
  for (let i = 0; i < total; i += 10) {
    await produce(
      s.topic,
      Array.from({ length: 10 }, (_, j) => ({ partition: (i + j) % 2, value: `d${i + j}` })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await eventually(async () => (distinct(s.files.log).size >= total ? true : undefined), 60_000, 300);
  await eventually(async () => ((await committed(s.admin, s.group, s.topic)).join() === "30,30" ? true : undefined));
  const all = calls(s.files.log);
  t.is(all.length, new Set(all.map((c) => c.entries[0])).size, "each batch ran once: no batch fired again");
  t.is(applied(s.files.log).length, total, "each record once");
  t.deepEqual(await readAll(s.deadLetters), []);
  t.false(s.said.some((line) => /is inactive/.test(line) && /failed/.test(line)));
});

function providerProcess(db: string, log: string, apiHost: string): ChildProcess {
  const out = openSync(log, "a");
  return spawn(process.execPath, ["--import", "tsx", "scripts/feed-provider.ts"], {
    env: {
      ...process.env,
      ...storeEnv(),
      LOSSLESS_FEED_KEY: key.toString("base64"),
      LOSSLESS_FEED_API_HOST: apiHost,
      LOSSLESS_FEED_DB: db,
      LOSSLESS_FEED_RETRY_BASE_MS: "200",
    },
    stdio: ["ignore", out, out],
  });
}

test("two providers, one paused past its session timeout and then woken: it leaves its partitions, nothing is lost, each partition in order", async (t) => {
  t.timeout(300_000);
  const s = await setup(t, { partitions: 4, key, consume: false, action: { sleepMs: 300 } });
  const log = join(tmpdir(), `${s.db}.log`);
  t.log(`the providers' log: ${log}`);
  const children = [providerProcess(s.db, log, s.apiHost), providerProcess(s.db, log, s.apiHost)];
  t.teardown(() => {
    for (const child of children) child.kill("SIGKILL");
  });
  await eventually(
    async () => (readFileSync(log, "utf8").match(/consuming for the registrations/g)?.length === 2 ? true : undefined),
    60_000,
  );
  // Both providers members of a settled group: the start's own rebalance is behind, only the pause is measured.
  await eventually(async () => {
    const [group] = (await s.admin.describeGroups([s.group])).groups;
    return group?.state === "Stable" && group.members.length === 2 ? true : undefined;
  }, 60_000);
  const total = 400;
  for (let i = 0; i < total; i += 20) {
    await produce(
      s.topic,
      Array.from({ length: 20 }, (_, j) => ({ partition: (i + j) % 4, value: `p${i + j}` })),
    );
    // A quarter in, one provider stops dead (as a process swapped out, or a VM paused) for 40 s, then goes on.
    if (i === 100) {
      children[0]?.kill("SIGSTOP");
      setTimeout(() => children[0]?.kill("SIGCONT"), 40_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await eventually(async () => (distinct(s.files.log).size >= total ? true : undefined), 180_000, 1_000);
  t.is(distinct(s.files.log).size, total, "every record reached the action");
  // The paused provider, woken, saw its session had expired and left what it was working on to the new owner.
  const said = await eventually(async () => {
    const text = readFileSync(log, "utf8");
    return /past the session timeout: its partitions are no longer this provider's/.test(text) ? text : undefined;
  }, 60_000).catch(() => readFileSync(log, "utf8"));
  t.regex(said, /past the session timeout: its partitions are no longer this provider's/);
  // Per partition, records were first applied in offset order: no batch overtook an earlier one.
  for (let partition = 0; partition < 4; partition += 1) {
    const { firsts, sorted } = firstApplied(s.files.log, partition);
    t.deepEqual(firsts, sorted, `partition ${partition} in order`);
  }
});

test("records retention removed before delivery are said; the rest, and a partition added after CREATE, are delivered from the earliest", async (t) => {
  t.timeout(180_000);
  const s = await setup(t, { partitions: 1, key });
  // The trigger is paused; 10 records arrive; retention (here, deleteRecords) removes the first 4.
  await s.client.actions.invoke({
    name: FEED,
    params: { lifecycleEvent: "PAUSE", triggerName: s.group, authKey: s.auth },
    blocking: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await produce(
    s.topic,
    Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `k${i}` })),
  );
  await s.admin.deleteTopicRecords({ topic: s.topic, partitions: [{ partition: 0, offset: "4" }] });
  await s.admin.createPartitions({ topicPartitions: [{ topic: s.topic, count: 2 }] });
  await produce(s.topic, [{ partition: 1, value: "new-partition" }]);
  await s.client.actions.invoke({
    name: FEED,
    params: { lifecycleEvent: "UNPAUSE", triggerName: s.group, authKey: s.auth },
    blocking: true,
  });
  await eventually(async () => (applied(s.files.log).length >= 7 ? true : undefined), 60_000);
  t.deepEqual(
    applied(s.files.log)
      .map((entry) => entry.split(":")[2])
      .sort(),
    ["k4", "k5", "k6", "k7", "k8", "k9", "new-partition"],
  );
  const said = await eventually(
    async () => s.said.find((line) => /were removed by the topic's retention/.test(line)),
    30_000,
  ).catch(() => `nothing said of retention; said: ${s.said.join("\n")}`);
  t.regex(said, /4 records \(offsets 0\.\.3\) were removed by the topic's retention before they were delivered/);
});

test("an API host that answers a fire with a body that cannot be read: the batch is fired again, the partition keeps flowing", async (t) => {
  t.timeout(120_000);
  const provider = new LosslessFeedProvider({
    cloudant: testCloudant(),
    registrationsKey: key,
    db: uniqueName("lossless-garbled"),
    settings: { retryBaseMs: 200, retryMaxMs: 1_000, syncMs: 300 },
  });
  const ow = await startLocalOpenWhisk({ port: 0 }, [provider]);
  t.teardown(() => ow.stop());
  // A front (a load balancer, a gateway) that garbles the answer to the first fire; the fire itself goes through.
  let garbled = 0;
  const front = await startStoreProxy(ow.apiHost, {
    rewrite: (request, _status, body) =>
      request.method === "POST" && request.url.includes("/triggers/") && garbled++ === 0
        ? Buffer.from("<html>the gateway timed out</html>")
        : body,
  });
  t.teardown(() => front.close());
  // The API host everyone is given is the front's, as behind a real deployment's load balancer.
  ow.platform.apiHost = front.url;
  const s = await triggerOn(t, ow);
  await produce(s.topic, [
    { partition: 0, value: "g1" },
    { partition: 0, value: "g2" },
  ]);
  await eventually(async () => (distinct(s.log).size >= 2 ? true : undefined), 60_000);
  await produce(s.topic, [{ partition: 0, value: "g3" }]);
  await eventually(async () => (distinct(s.log).size >= 3 ? true : undefined), 30_000);
  t.is(garbled > 1, true, "the garbled answer was met");
  t.deepEqual([...distinct(s.log)], ["0:0", "0:1", "0:2"]);
});

/** A trigger on the lossless feed of `ow` with the recording action behind it. */
async function triggerOn(
  t: { teardown: (fn: () => Promise<void>) => void },
  ow: Awaited<ReturnType<typeof startLocalOpenWhisk>>,
) {
  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  const topic = uniqueName("garbled");
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, [
    { topic, partitions: 1 },
    { topic: `${topic}.dead`, partitions: 1 },
  ]);
  const log = join(tmpdir(), `${topic}.calls.log`);
  const counter = join(tmpdir(), `${topic}.calls.count`);
  writeFileSync(log, "");
  await putRecordingAction(client, { log, counter });
  const trigger = uniqueName("garbled");
  await client.triggers.create({ name: trigger, trigger: { annotations: [{ key: "feed", value: FEED }] } as never });
  await (client.feeds as unknown as { create(o: object): Promise<unknown> }).create({
    feedName: FEED,
    trigger,
    params: { topic, brokers: kafkaSettings().brokers, deadLetterTopic: `${topic}.dead`, batchMs: 20 },
  });
  await client.rules.create({ name: `${trigger}-record`, trigger, action: "record" });
  return { topic, log, trigger, files: { log, counter } };
}

test("UPDATE to a dead-letter topic that does not exist is refused: a letter could never be written", async (t) => {
  const s = await setup(t, { partitions: 1, key });
  const feeds = s.client.feeds as unknown as { update(o: object): Promise<unknown> };
  t.is(
    await feedError(feeds.update({ feedName: FEED, trigger: s.trigger, params: { deadLetterTopic: "no-such-dlq" } })),
    "Topic does not exist. You must create the topic first: no-such-dlq",
  );
});

test("a registration's changes are followed through the store's changes feed: an idle provider asks the store next to nothing", async (t) => {
  t.timeout(60_000);
  const proxy = await startStoreProxy(storeSettings().url);
  t.teardown(() => proxy.close());
  const db = uniqueName("lossless-idle");
  const provider = new LosslessFeedProvider({
    cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }),
    registrationsKey: key,
    db,
    settings: { syncMs: 300 },
  });
  const ow = await startLocalOpenWhisk({ port: 0 }, [provider]);
  t.teardown(async () => {
    await ow.stop();
    await testCloudant()
      .deleteDatabase({ db })
      .catch(() => undefined);
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const before = proxy.stats.forwarded;
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const idle = proxy.stats.forwarded - before;
  t.log(`store requests in 10 s of idling: ${idle}`);
  t.true(idle <= 3, `an idle provider asked the store ${idle} times in 10 s (a list every 300 ms would be 33)`);
});

test("a key rotated: the trigger pauses on the old key, and UNPAUSE with the new one takes effect", async (t) => {
  t.timeout(120_000);
  const db = uniqueName("lossless-rotated");
  t.teardown(async () => {
    await testCloudant()
      .deleteDatabase({ db })
      .catch(() => undefined);
  });
  const keyOf = () => `${randomUUID()}:${randomBytes(32).toString("base64url")}`;
  const [oldKey, newKey] = [keyOf(), keyOf()];
  const provider = () =>
    new LosslessFeedProvider({ cloudant: testCloudant(), registrationsKey: key, db, settings: { syncMs: 300 } });
  // The namespace's key is rotated between two runs of the platform, on the same address.
  const first = await startLocalOpenWhisk({ port: 0, auth: oldKey }, [provider()]);
  const s = await triggerOn(t, first);
  await first.stop();
  const second = await startLocalOpenWhisk({ port: first.port, auth: newKey }, [provider()]);
  t.teardown(() => second.stop());
  // A client of its own: an idle connection kept from the first run would meet a server that is gone.
  const client = openwhisk({
    apihost: second.apiHost,
    api_key: newKey,
    agent: new Agent({ keepAlive: false }),
  } as never);
  await putRecordingAction(client, s.files);
  await client.triggers.create({ name: s.trigger, trigger: { annotations: [{ key: "feed", value: FEED }] } as never });
  await client.rules.create({ name: `${s.trigger}-record`, trigger: s.trigger, action: "record" });
  await produce(s.topic, [{ partition: 0, value: "after-rotation" }]);
  const registrations = new Registrations(testCloudant(), db);
  const group = `/guest/${s.trigger}`;
  await eventually(async () => ((await registrations.get(group))?.active === false ? true : undefined), 30_000);
  t.regex(String((await registrations.get(group))?.reason), /refuses the key/);
  // The owner unpauses with the key they have now.
  await client.actions.invoke({
    name: FEED,
    params: { lifecycleEvent: "UNPAUSE", triggerName: group, authKey: newKey },
    blocking: true,
  });
  await eventually(async () => (applied(s.log).length >= 1 ? true : undefined), 30_000);
  t.deepEqual(
    applied(s.log).map((entry) => entry.split(":")[2]),
    ["after-rotation"],
  );
  t.true((await registrations.get(group))?.active);
});

test("a record too large for any letter is dead-lettered on its own, as it arrived, beside the letter that names it", async (t) => {
  t.timeout(120_000);
  const s = await setup(t, { partitions: 1, key });
  // Under Kafka's 1 MB, over what a letter holds beside its errors and offsets.
  const large = `poison-${"L".repeat(999_000)}`;
  await produce(s.topic, [
    { partition: 0, value: "poison-small" },
    { partition: 0, value: large },
  ]);
  await eventually(async () => ((await committed(s.admin, s.group, s.topic))[0] === 2 ? true : undefined), 90_000);
  const { records } = await readRange(testKafka(), s.deadLetters, 0, 0, 10);
  const letters = records.flatMap((record) => {
    if (record.headers?.["lossless-feed"]) return [];
    return [JSON.parse(record.value?.toString("utf8") ?? "{}") as { omitted?: number[]; fromOffset: number }];
  });
  t.deepEqual(
    letters.map((letter) => [letter.fromOffset, letter.omitted ?? []]),
    [
      [0, []],
      [1, [1]],
    ],
    "the second letter names the record it could not hold",
  );
  const raw = records.find((record) => record.headers?.["lossless-feed"]);
  t.is(raw?.value?.toString("utf8"), large, "the record itself follows, byte for byte");
  const header = (name: string) => raw?.headers?.[name]?.toString();
  t.deepEqual(["lossless-feed", "topic", "partition", "offset"].map(header), ["raw-record", s.topic, "0", "1"]);
});
