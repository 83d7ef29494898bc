// The relay's coverage audit on the real Kafka and store: the feed committed a batch that no activation landed
// (killed while it started, a 204 during a redeploy, a throttle after the 202). After the grace period the relay
// reads the batch back from Kafka and sends it to the step's retry topic; a record too large for any fire goes to the
// dead-letter topic.
import test from "ava";
import { defineOutboxRelay } from "../../lib/step/index.ts";
import { startCoverage } from "../../lib/step/sweeper.ts";
import { testCloudant, testKafka } from "../support/services.ts";
import { entityState, feedParams, type StepWorld, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

const TRIGGER = "tally-in";

function sweptRelay(world: StepWorld) {
  return defineOutboxRelay({
    name: "test-relay",
    databases: [world.names.database],
    graceMs: 0,
    gapGraceMs: 30_000,
    steps: [
      {
        name: "tally.add",
        database: world.names.database,
        retryTopic: world.names.retry,
        deadLetterTopic: world.names.deadLetter,
        sources: [{ topic: world.names.in, trigger: TRIGGER }],
      },
    ],
  });
}

type Coverage = { resent: number; waiting: number; deadLettered: number; folded: number };
async function audit(world: StepWorld, at: number): Promise<Coverage> {
  const answer = (await sweptRelay(world).run(world.relayIO({ now: () => at, deadline: at + 60_000 }))) as {
    databases: { coverage?: Coverage[]; error?: string }[];
  };
  const coverage = answer.databases[0]?.coverage?.[0];
  if (!coverage) throw new Error(`no coverage report: ${JSON.stringify(answer)}`);
  return coverage;
}

/** What the feed does when OpenWhisk accepts a fire: the trigger's consumer group commits past the batch. */
async function commitAsTheFeed(world: StepWorld) {
  const admin = testKafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(world.names.in);
  await admin.setOffsets({
    groupId: `/test/${TRIGGER}`,
    topic: world.names.in,
    partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
  });
  await admin.disconnect();
}

test("a committed batch that no activation landed is sent to the retry topic after the grace period, once", async (t) => {
  t.timeout(120_000);
  const world = await stepWorld(t);
  const admin = testKafka().admin();
  await admin.connect();
  await world.producer.send({
    topic: world.names.in,
    messages: [{ partition: 0, value: JSON.stringify(tallyAdded("old", 1)) }],
  });
  await startCoverage(sweptRelay(world).spec.steps?.[0] as never, testCloudant(), admin);
  await admin.disconnect();

  // Two batches reach the topic; the first is landed and applied, the second's activation dies before landing.
  const landed = [tallyAdded("a", 1), tallyAdded("a", 2)];
  const lost = [tallyAdded("a", 4), tallyAdded("b", 8), { ...tallyAdded("c", 16), padding: "x".repeat(950_000) }];
  const sent = await world.producer.send({
    topic: world.names.in,
    messages: [...landed, ...lost].map((event) => ({ partition: 0, key: event.subject, value: JSON.stringify(event) })),
  });
  const partition = 0;
  const first = Number(sent[0]?.baseOffset ?? 0);
  const step = tallyStep(world.names);
  const batch = feedParams(world.names.in, landed).messages.map((m, i) => ({ ...m, partition, offset: first + i }));
  await step.run({ messages: batch }, world.io());
  await commitAsTheFeed(world);

  const now = Date.now();
  const noticed = await audit(world, now);
  t.like(noticed, { waiting: 3, resent: 0 }, "an activation may still be starting: wait");
  const due = await audit(world, now + 31_000);
  t.like(due, { resent: 2, deadLettered: 1, waiting: 0 });
  const retried = await readTopic(world.names.retry, { atLeast: 2 });
  t.deepEqual(
    values(retried).map((r) => r.attempt),
    [2, 2],
  );
  await step.run(
    feedParams(
      world.names.retry,
      retried.map((r) => r.value),
    ),
    world.io(),
  );
  t.deepEqual(await entityState(world, "a"), { total: 7, count: 3 });
  t.deepEqual(await entityState(world, "b"), { total: 8, count: 1 });
  t.is(await entityState(world, "old"), undefined, "what was on the topic before the audit started is not the step's");
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1 }));
  t.like(letters[0], { reason: "oversized", step: "tally.add" });

  const after = await audit(world, now + 62_000);
  t.like(after, { resent: 0, waiting: 0, deadLettered: 0 }, "sent once");
  t.true(after.folded + due.folded >= 1, "landings already accounted for are folded away");
});
