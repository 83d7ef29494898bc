// The landing at full size and under faults: a 900 KB batch is landed (in parts) and comes back after a kill; a
// landing that meets a 429 is retried; a store that cannot be reached means no work, every record to the retry
// topic; records Kafka did not take keep a home (parked) until the relay sends them; a batch that kills every
// activation ends as dead letters.
import test from "ava";
import { defineOutboxRelay } from "../../lib/step/index.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { storeSettings, testCloudant } from "../support/services.ts";
import {
  Crash,
  entityState,
  feedParams,
  paddedTallyAdded,
  type StepWorld,
  stepWorld,
  tallyAdded,
  tallyStep,
} from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

type Answer = {
  counts: Record<string, number>;
  parkedIn?: string[];
  error?: { message: string; report?: { counts: Record<string, number>; parkedIn?: string[] } };
};

async function runRelay(world: StepWorld, at: number) {
  const relay = defineOutboxRelay({ name: "test-relay", databases: [world.names.database], graceMs: 0 });
  return (await relay.run(world.relayIO({ now: () => at, deadline: at + 60_000 }))) as {
    databases: { resent: number; unparked: number; published: number; error?: string }[];
  };
}

async function docsOfKind(world: StepWorld, kind: string) {
  const found = await testCloudant().postFind({ db: world.names.database, selector: { kind }, limit: 1000 });
  return found.result.docs;
}

/** A feed batch of about `bytes` of the provider's JSON, over 20 counters, amounts 14.. (13 is the fixture's poison). */
function fullSizeBatch(world: StepWorld, records: number, bytes: number) {
  const probe = JSON.stringify(feedParams(world.names.in, [paddedTallyAdded("c0", 1, 0)])).length;
  const pad = Math.max(0, Math.floor(bytes / records) - probe);
  const events = Array.from({ length: records }, (_, i) => paddedTallyAdded(`c${i % 20}`, i + 14, pad));
  return feedParams(world.names.in, events);
}

/** Runs records read back from the retry topic through the step, in batches as the feed would cap them. */
async function applyRetries(world: StepWorld, step: ReturnType<typeof tallyStep>, records: { value: string }[]) {
  for (let i = 0; i < records.length; i += 600) {
    const slice = records.slice(i, i + 600).map((r) => r.value);
    await step.run(feedParams(world.names.retry, slice), world.io());
  }
}

test("a full-size batch (900 KB, 1,700 records) is landed in parts; killed, every record comes back once", async (t) => {
  t.timeout(180_000);
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const batch = fullSizeBatch(world, 1_700, 899_000);
  t.true(JSON.stringify(batch).length > 880_000, "as large as the feed fires");
  const deadline = Date.now() + 60_000;
  const crash = {
    beforeWrite: async () => {
      t.true((await docsOfKind(world, "inbox")).length >= 9, "landed in parts of about 96 KB");
      throw new Crash("killed");
    },
  };
  await t.throwsAsync(step.run(batch, world.io({ deadline, crash })), { instanceOf: Crash });
  const relay = await runRelay(world, deadline + 1);
  t.is(relay.databases[0]?.resent, 1_700);
  await applyRetries(world, step, await readTopic(world.names.retry, { atLeast: 1_700 }));
  let total = 0;
  let count = 0;
  for (let c = 0; c < 20; c += 1) {
    const state = await entityState(world, `c${c}`);
    total += state?.total ?? 0;
    count += state?.count ?? 0;
  }
  t.is(count, 1_700, "every record applied once");
  t.is(total, (1_700 * 1_699) / 2 + 14 * 1_700);
  t.is((await docsOfKind(world, "inbox")).length, 0, "nothing left landed");
});

test("a landing that meets a 429 is retried, so a kill afterwards still loses nothing", async (t) => {
  const world = await stepWorld(t);
  let refused = 0;
  const proxy = await startStoreProxy(storeSettings().url, {
    intercept: (request) => {
      if (refused > 0 || !request.body.includes('"kind":"inbox"')) return undefined;
      refused += 1;
      return { status: 429, body: { error: "too_many_requests", reason: "injected" } };
    },
  });
  t.teardown(() => proxy.close());
  const step = tallyStep(world.names);
  const deadline = Date.now() + 60_000;
  const io = world.io({
    cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }),
    deadline,
    crash: {
      beforeWrite: () => {
        throw new Crash("killed");
      },
    },
  });
  await t.throwsAsync(step.run(feedParams(world.names.in, [tallyAdded("x", 2), tallyAdded("x", 3)]), io));
  t.is(refused, 1);
  t.is((await runRelay(world, deadline + 1)).databases[0]?.resent, 2);
  await applyRetries(world, step, await readTopic(world.names.retry, { atLeast: 2 }));
  t.deepEqual(await entityState(world, "x"), { total: 5, count: 2 });
});

test("a store that cannot be reached to land the batch: nothing is worked on, every record goes to the retry topic", async (t) => {
  const world = await stepWorld(t);
  const proxy = await startStoreProxy(storeSettings().url);
  t.teardown(() => proxy.close());
  proxy.setDown(true);
  const step = tallyStep(world.names);
  const io = world.io({
    cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }),
    deadline: Date.now() + 8_000,
  });
  const answer = (await step.run(feedParams(world.names.in, [tallyAdded("y", 1), "{not json"]), io)) as Answer;
  t.like(answer.counts, { applied: 0, "sent-to-retry": 1, "dead-lettered": 1 });
  const retried = values(await readTopic(world.names.retry, { atLeast: 1 }));
  t.regex(String(retried[0]?.reason), /could not be landed/);
  proxy.setDown(false);
  await applyRetries(world, step, await readTopic(world.names.retry, { atLeast: 1 }));
  t.deepEqual(await entityState(world, "y"), { total: 1, count: 1 });
});

test("Kafka unreachable: what could not be sent is parked, the answer stays under 1 MB, and the relay sends it later", async (t) => {
  t.timeout(120_000);
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const kafkaDown = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
    name: "KafkaJSConnectionError",
    retriable: true,
  });
  const poison = Array.from({ length: 1_500 }, (_, i) => `{"not json ${i}": "${"z".repeat(500)}`);
  const good = [tallyAdded("k", 1), tallyAdded("k", 2), tallyAdded("m", 3)];
  const answer = (await step.run(
    feedParams(world.names.in, [...good, ...poison]),
    world.io({ producer: () => Promise.reject(kafkaDown), deadline: Date.now() + 7_000 }),
  )) as Answer;
  t.true(JSON.stringify(answer).length < 1_000_000, `the answer is ${JSON.stringify(answer).length} bytes`);
  t.regex(answer.error?.message ?? "", /1500 message\(s\) could be sent neither.*parked/);
  t.is(answer.error?.report?.counts.applied, 3, "the good records were applied; their events wait in the outbox");
  t.true((answer.error?.report?.parkedIn?.length ?? 0) >= 5);
  t.is((await docsOfKind(world, "inbox")).length, 0, "the landing went once every record had a home");

  const relay = await runRelay(world, Date.now() + 60_000);
  t.is(relay.databases[0]?.unparked, 1_500);
  t.is(relay.databases[0]?.published, 3);
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1_500 }));
  t.is(letters.length, 1_500);
  t.is(letters[0]?.reason, "invalid-json");
  t.is((await docsOfKind(world, "parked")).length, 0);
});

test("a batch that kills every activation comes back with one attempt more each time, then is dead-lettered", async (t) => {
  t.timeout(120_000);
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  let batch = feedParams(world.names.in, [tallyAdded("loop", 1), tallyAdded("loop", 2)]);
  const seen = new Set<string>();
  let deaths = 0;
  for (let round = 1; round <= 8; round += 1) {
    const deadline = Date.now() + 60_000;
    const crash = {
      beforeWrite: () => {
        throw new Crash("the batch kills its container");
      },
    };
    const died = await step.run(batch, world.io({ deadline, crash })).then(
      () => false,
      () => true,
    );
    if (!died) break;
    deaths += 1;
    await runRelay(world, deadline + 1);
    const fresh = (await readTopic(world.names.retry, { atLeast: seen.size + 2 })).filter(
      (r) => !seen.has(`${r.partition}:${r.offset}`),
    );
    for (const r of fresh) seen.add(`${r.partition}:${r.offset}`);
    batch = feedParams(
      world.names.retry,
      fresh.map((r) => r.value),
    );
  }
  t.is(deaths, 5, "the default limit is 5 attempts");
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 2 }));
  t.deepEqual(
    letters.map((l) => [l.reason, l.attempts]),
    [
      ["retries-exhausted", 6],
      ["retries-exhausted", 6],
    ],
  );
  t.is(await entityState(world, "loop"), undefined);
});

test("on the lossless feed (kafka_feed bound to lossless) a batch is applied without a landing or a coverage record; a kill fails the activation, and the batch fired again applies once", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const batch = {
    ...feedParams(world.names.in, [tallyAdded("a", 1), tallyAdded("b", 2), tallyAdded("a", 3)]),
    kafka_feed: "lossless",
  };
  let landedAtWrite = -1;
  const crash = {
    beforeWrite: async () => {
      landedAtWrite = (await docsOfKind(world, "inbox")).length;
      throw new Crash("killed");
    },
  };
  // The kill fails the activation: the lossless feed fires the same batch again, as here.
  await t.throwsAsync(step.run(batch, world.io({ crash })), { instanceOf: Crash });
  t.is(landedAtWrite, 0, "nothing was landed before the write");
  const answer = (await step.run(batch, world.io())) as Answer;
  t.like(answer.counts, { applied: 3 });
  t.like((await step.run(batch, world.io())) as Answer, { counts: { applied: 0, duplicate: 3 } });
  t.like(await entityState(world, "a"), { total: 4, count: 2 });
  t.is((await docsOfKind(world, "inbox")).length, 0);
  t.is((await docsOfKind(world, "seen")).length, 0, "no coverage record: the feed committed nothing it did not settle");
});
