import test from "ava";
import type { CloudEvent } from "../../lib/events/envelope.ts";
import { idempotencyKey } from "../../lib/events/envelope.ts";
import { idempotencyDocId, keyDigest } from "../../lib/step/documents.ts";
import { defineKeyedStep } from "../../lib/step/index.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { storeSettings, testCloudant } from "../support/services.ts";
import { catalog, feedParams, type StepWorld, stepWorld, tallyAdded } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

type Answer = { counts: Record<string, number>; messages: { status: string; result?: unknown; reason?: string }[] };

/** A step with an outside effect (here: a call counter standing in for an e-mail or an external API). */
function noteStep(world: StepWorld, effects: string[]) {
  return defineKeyedStep({
    name: "tally.note",
    catalog,
    handles: ["tally.added"],
    database: world.names.database,
    handle: async (event: CloudEvent<string, unknown>) => {
      effects.push(event.id);
      const { amount } = event.data as { amount: number };
      if (amount === 13) throw new Error("refused");
      return { result: { noted: amount }, emit: [{ type: "tally.noted", data: { note: `noted ${amount}` } }] };
    },
    routes: { "tally.noted": world.names.out },
    topics: { retry: world.names.retry, deadLetter: world.names.deadLetter },
  });
}

test("a keyed step runs its handler once per key and answers duplicates with the stored result", async (t) => {
  const world = await stepWorld(t);
  const effects: string[] = [];
  const step = noteStep(world, effects);
  const event = tallyAdded("k", 4);
  const first = (await step.run(feedParams(world.names.in, [event, event]), world.io())) as Answer;
  t.deepEqual([first.counts.applied, first.counts.duplicate], [1, 1]);
  const again = (await step.run(feedParams(world.names.in, [event]), world.io())) as Answer;
  t.is(again.counts.duplicate, 1);
  t.deepEqual(again.messages[0]?.result, { noted: 4 });
  t.deepEqual(effects, [event.id]);
  const out = values(await readTopic(world.names.out, { atLeast: 1 }));
  t.is(out.length, 1);
  t.is(out[0]?.type, "tally.noted");
});

test("the same key with another payload is refused and dead-lettered", async (t) => {
  const world = await stepWorld(t);
  const step = noteStep(world, []);
  const event = tallyAdded("k", 4);
  await step.run(feedParams(world.names.in, [event]), world.io());
  const forged = { ...event, data: { amount: 400 } };
  const answer = (await step.run(feedParams(world.names.in, [forged]), world.io())) as Answer;
  t.is(answer.counts["dead-lettered"], 1);
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1 }));
  t.is(letters[0]?.reason, "payload-mismatch");
});

test("a live in-progress lock sends the duplicate to the retry topic; an expired one is taken over", async (t) => {
  const world = await stepWorld(t);
  const effects: string[] = [];
  const step = noteStep(world, effects);
  const event = tallyAdded("k", 5);
  const now = Date.now();
  // An activation that claimed the key and is still running (its deadline is 30 s away), or died.
  const cloudant = testCloudant();
  const docId = idempotencyDocId(keyDigest(idempotencyKey(event)));
  const { hashPayload } = await import("../../lib/idempotency/decide.ts");
  const lock = {
    kind: "idempotency",
    status: "INPROGRESS",
    payloadHash: hashPayload({ type: event.type, subject: event.subject, data: event.data }),
    inProgressExpiresAt: now + 30_000,
    expiresAt: now + 86_400_000,
    outbox: [],
  };
  await cloudant.putDocument({ db: world.names.database, docId, document: lock as never });

  const during = (await step.run(feedParams(world.names.in, [event]), world.io({ now: () => now + 29_000 }))) as Answer;
  t.is(during.counts["sent-to-retry"], 1);
  t.deepEqual(effects, []);

  const after = (await step.run(
    feedParams(world.names.in, [event]),
    world.io({ now: () => now + 30_001, deadline: now + 90_000 }),
  )) as Answer;
  t.is(after.counts.applied, 1);
  t.deepEqual(effects, [event.id]);
});

test("a handler that keeps failing is dead-lettered and its lock released, so a replay can run", async (t) => {
  const world = await stepWorld(t);
  const effects: string[] = [];
  const step = noteStep(world, effects);
  const event = tallyAdded("k", 13);
  const answer = (await step.run(feedParams(world.names.in, [event]), world.io())) as Answer;
  t.is(answer.counts["dead-lettered"], 1);
  t.is(effects.length, 3, "three attempts");
  const docId = idempotencyDocId(keyDigest(idempotencyKey(event)));
  const err = await t.throwsAsync(testCloudant().getDocument({ db: world.names.database, docId }));
  t.is((err as { status?: number }).status, 404);
});

test("when reading the existing records fails, only the keys this activation does not hold go to the retry topic", async (t) => {
  const world = await stepWorld(t);
  const effects: string[] = [];
  const done = tallyAdded("d", 5);
  await noteStep(world, effects).run(feedParams(world.names.in, [done]), world.io());
  // The claim of `done` conflicts with its record; reading that record then fails for good (400).
  const proxy = await startStoreProxy(storeSettings().url, {
    intercept: (request) =>
      request.url.includes("/_all_docs")
        ? { status: 400, body: { error: "bad_request", reason: "injected" } }
        : undefined,
  });
  t.teardown(() => proxy.close());
  const fresh = tallyAdded("f", 6);
  const answer = (await noteStep(world, effects).run(
    feedParams(world.names.in, [fresh, done]),
    world.io({ cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }) }),
  )) as Answer;
  t.deepEqual(
    answer.messages.map((m) => m.status),
    ["applied", "sent-to-retry"],
  );
  const retried = values(await readTopic(world.names.retry, { atLeast: 1 }));
  t.is(retried.length, 1, "the held key is not also sent to the retry topic");
  t.deepEqual(effects, [done.id, fresh.id]);
});
