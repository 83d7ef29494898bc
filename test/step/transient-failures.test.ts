import test from "ava";
import { logLevel } from "kafkajs";
import { createIdempotentProducer, createKafka } from "../../lib/kafka/client.ts";
import { defineOutboxRelay } from "../../lib/step/index.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { flakyStoreProxy } from "../support/flaky-proxy.ts";
import { storeSettings } from "../support/services.ts";
import { entityState, feedParams, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

type Answer = { counts: Record<string, number>; outboxPending: number; published: number };

test("429 answers from the store are retried with backoff inside the activation", async (t) => {
  const world = await stepWorld(t);
  const proxy = await flakyStoreProxy(storeSettings().url, 3, 429);
  t.teardown(proxy.close);
  const step = tallyStep(world.names);
  const answer = (await step.run(
    feedParams(world.names.in, [tallyAdded("busy", 3)]),
    world.io({ cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }) }),
  )) as Answer;
  t.is(proxy.refused(), 3);
  t.is(answer.counts.applied, 1);
  t.deepEqual(await entityState(world, "busy"), { total: 3, count: 1 });
});

test("a store that stays unreachable sends the batch to the retry topic, and consuming it later applies it", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names, { limits: { deadlineReserveMs: 1_000 } });
  const event = tallyAdded("later", 6);
  const now = Date.now();
  const answer = (await step.run(
    feedParams(world.names.in, [event]),
    world.io({
      cloudant: createCloudant({ url: "http://127.0.0.1:9", auth: { kind: "none" } }),
      deadline: now + 3_000,
    }),
  )) as Answer;
  t.is(answer.counts["sent-to-retry"], 1);

  const retried = await readTopic(world.names.retry, { atLeast: 1 });
  t.is(retried.length, 1);
  const envelope = JSON.parse(retried[0]?.value ?? "{}");
  t.is(envelope.attempt, 2);
  t.is(envelope.value.id, event.id);
  // The step's trigger on its retry topic delivers the record back to it.
  const again = (await step.run(
    feedParams(world.names.retry, [retried[0]?.value]),
    world.io({ sleep: async () => undefined }),
  )) as Answer;
  t.is(again.counts.applied, 1);
  t.deepEqual(await entityState(world, "later"), { total: 6, count: 1 });
});

test("a message that keeps failing is dead-lettered once its retry attempts are used up", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names, { limits: { deadlineReserveMs: 1_000, retryAttempts: 2 } });
  const unreachable = createCloudant({ url: "http://127.0.0.1:9", auth: { kind: "none" } });
  const retryRecord = JSON.stringify({
    stepretry: 1,
    step: "tally.add",
    attempt: 2,
    reason: "earlier",
    notBefore: 0,
    value: tallyAdded("x", 1),
  });
  const answer = (await step.run(
    feedParams(world.names.retry, [retryRecord]),
    world.io({ cloudant: unreachable, deadline: Date.now() + 2_500 }),
  )) as Answer;
  t.is(answer.counts["dead-lettered"], 1);
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1 }));
  t.is(letters[0]?.reason, "retries-exhausted");
  t.is(letters[0]?.attempts, 2);
});

test("a broker that is unreachable after the write leaves the outbox to the relay", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names, { limits: { deadlineReserveMs: 1_000 } });
  const deadBroker = createIdempotentProducer(
    createKafka({ brokers: ["127.0.0.1:9"], ssl: false, clientId: "unreachable" }, logLevel.NOTHING),
  );
  const answer = (await step.run(
    feedParams(world.names.in, [tallyAdded("stuck", 2)]),
    world.io({ producer: async () => deadBroker, deadline: Date.now() + 4_000 }),
  )) as Answer;
  t.is(answer.counts.applied, 1);
  t.is(answer.published, 0);
  t.is(answer.outboxPending, 1);
  const relay = defineOutboxRelay({ name: "relay", databases: [world.names.database], graceMs: 0 });
  const relayed = (await relay.run(world.relayIO())) as { databases: { published: number }[] };
  t.is(relayed.databases[0]?.published, 1);
  const out = values(await readTopic(world.names.out, { atLeast: 1 }));
  t.is(out.length, 1);
  t.is(out[0]?.subject, "stuck");
});
