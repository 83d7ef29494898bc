// The dead-letter tools on the real broker and store: a letter replayed twice goes to its step's retry topic under
// its original key both times, is applied once, and both replays are recorded; the command lists and refuses.
import test from "ava";
import { type ReplayIO, readLetters, replayLetters, replaysOf } from "../../scripts/deadletters/letters.ts";
import { runScript } from "../support/run-script.ts";
import { scratchDatabase, testCloudant, testKafka } from "../support/services.ts";
import { entityState, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic } from "../support/topic-reader.ts";

interface Answer {
  counts: Record<string, number>;
}

/** The feed's payload for records with their keys. */
/** The tally step once its handler is fixed: it accepts every amount, the poison one included. */
const acceptingStep = (names: Parameters<typeof tallyStep>[0]) =>
  tallyStep(names, {
    handle: (event, state) => {
      const { amount } = event.data as { amount: number };
      return { state: { total: (state?.total ?? 0) + amount, count: (state?.count ?? 0) + 1 } };
    },
  });

const fired = (topic: string, records: { key: string | null; value: string }[]) => ({
  messages: records.map((record, offset) => ({ topic, partition: 0, offset, key: record.key, value: record.value })),
});

test("a dead letter replayed twice is applied once, under its original key, and both replays are recorded", async (t) => {
  const world = await stepWorld(t);
  const { names } = world;
  const poison = tallyAdded("lucky-counter", 13);

  // The handler refuses 13: the event is dead-lettered, naming the retry topic it can be replayed to.
  const refusing = tallyStep(names);
  const refused = (await refusing.run(
    fired(names.in, [{ key: "lucky-counter", value: JSON.stringify(poison) }]),
    world.io(),
  )) as unknown as Answer;
  t.is(refused.counts["dead-lettered"], 1);
  const kafka = testKafka();
  const letters = await readLetters(kafka, names.deadLetter);
  t.is(letters.length, 1);
  const [stored] = letters as [(typeof letters)[number]];
  t.is(stored.letter.reason, "handler-failed");
  t.is(stored.letter.retryTopic, names.retry);

  // Replayed twice.
  const replayDb = scratchDatabase(t, "replays");
  const cloudant = testCloudant();
  await cloudant.putDatabase({ db: replayDb });
  const io: ReplayIO = {
    kafka,
    producer: world.producer,
    cloudant,
    database: replayDb,
    store: (fn) => fn(),
    now: Date.now,
    by: "test",
  };
  await replayLetters(io, [stored]);
  await replayLetters(io, [stored]);
  const retried = await readTopic(names.retry, { atLeast: 2 });
  t.is(retried.length, 2);
  t.deepEqual(
    retried.map((record) => record.key),
    ["lucky-counter", "lucky-counter"],
  );

  // Once the handler is fixed, the step applies the event once and sees the second replay as a duplicate.
  const accepting = acceptingStep(names);
  const answer = (await accepting.run(fired(names.retry, retried), world.io())) as unknown as Answer;
  t.is(answer.counts.applied, 1);
  t.is(answer.counts.duplicate, 1);
  t.deepEqual(await entityState(world, "lucky-counter"), { total: 13, count: 1 });

  const recorded = (await replaysOf(cloudant, replayDb, [stored])).get(stored.id) ?? [];
  t.is(recorded.length, 2);
  t.true(recorded.every((replay) => replay.retryTopic === names.retry && replay.key === "lucky-counter"));
});

test("1,000 dead letters of one batch are replayed in one send and recorded in bulk, each applied once", async (t) => {
  t.timeout(180_000);
  const world = await stepWorld(t);
  const { names } = world;
  const counters = Array.from({ length: 1_000 }, (_, i) => `counter-${i}`);
  const refusing = tallyStep(names);
  const poison = counters.map((counter) => ({ key: counter, value: JSON.stringify(tallyAdded(counter, 13)) }));
  const refused = (await refusing.run(fired(names.in, poison), world.io())) as unknown as Answer;
  t.is(refused.counts["dead-lettered"], 1_000);

  const kafka = testKafka();
  const letters = await readLetters(kafka, names.deadLetter);
  t.is(letters.length, 1_000);
  const replayDb = scratchDatabase(t, "replays");
  const cloudant = testCloudant();
  await cloudant.putDatabase({ db: replayDb });
  // Counting the store's round trips: the replays are recorded in bulk, not one document at a time.
  let storeCalls = 0;
  const io: ReplayIO = {
    kafka,
    producer: world.producer,
    cloudant,
    database: replayDb,
    store: (fn) => {
      storeCalls += 1;
      return fn();
    },
    now: Date.now,
    by: "test",
  };
  const outcome = await replayLetters(io, letters);
  t.is(outcome.replayed.length, 1_000);
  t.deepEqual(outcome.refused, []);
  t.true(storeCalls <= 4, `${storeCalls} store calls for 1,000 replays`);

  const retried = await readTopic(names.retry, { atLeast: 1_000 });
  t.is(retried.length, 1_000);
  t.deepEqual(retried.map((record) => record.key).sort(), [...counters].sort(), "each under its original key, once");
  const recorded = await replaysOf(cloudant, replayDb, letters);
  t.true([...recorded.values()].every((replays) => replays.length === 1));

  const accepting = acceptingStep(names);
  const answer = (await accepting.run(fired(names.retry, retried), world.io())) as unknown as Answer;
  t.is(answer.counts.applied, 1_000);
  t.deepEqual(await entityState(world, "counter-999"), { total: 13, count: 1 });
});

const deadletters = (args: string[]) => runScript("scripts/deadletters.ts", args);

test("npm run deadletters: list shows each letter with its replays; a replay without a choice is refused", async (t) => {
  const world = await stepWorld(t);
  const { names } = world;
  const refusing = tallyStep(names);
  await refusing.run(fired(names.in, [{ key: "k", value: JSON.stringify(tallyAdded("k", 13)) }]), world.io());
  const replayDb = scratchDatabase(t, "replays");

  const listed = await deadletters(["list", "--topic", names.deadLetter, "--database", replayDb]);
  t.is(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trim().split("\n");
  t.is(lines.length, 1, listed.stdout);
  t.regex(
    lines[0] ?? "",
    /^\d+:\d+ +\S+ +tally\.add +handler-failed +attempts 3 +replays 0 +\S+\.in:0:0 +13 is unlucky$/,
  );

  const id = (lines[0] ?? "").split(" ")[0] ?? "";
  const replayed = await deadletters(["replay", id, "--topic", names.deadLetter, "--database", replayDb]);
  t.is(replayed.code, 0, replayed.stderr);
  t.is(replayed.stdout.trim(), `replayed ${id} to ${names.retry}`);
  const again = await deadletters([
    "list",
    "--topic",
    names.deadLetter,
    "--database",
    replayDb,
    "--reason",
    "handler-failed",
  ]);
  t.regex(again.stdout, / replays 1 /);

  const refused = await deadletters(["replay", "--topic", names.deadLetter]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /replay needs letter ids, or --step, --reason or --since/);
});
