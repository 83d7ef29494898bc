import test from "ava";
import { entityState, feedParams, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

const applied = (answer: unknown) => (answer as { counts: Record<string, number> }).counts;

for (const times of [1, 2, 3, 4, 5]) {
  test(`an event delivered ${times} time(s) in one batch is applied once and emits one event`, async (t) => {
    const world = await stepWorld(t);
    const step = tallyStep(world.names);
    const event = tallyAdded("c1", 5);
    const answer = await step.run(feedParams(world.names.in, Array(times).fill(event)), world.io());
    t.deepEqual(applied(answer), {
      applied: 1,
      duplicate: times - 1,
      ignored: 0,
      "dead-lettered": 0,
      "sent-to-retry": 0,
      unsent: 0,
    });
    t.deepEqual(await entityState(world, "c1"), { total: 5, count: 1 });
    const out = values(await readTopic(world.names.out, { atLeast: 1 }));
    t.is(out.length, 1);
    t.is(out[0]?.causationid, event.id);
  });
}

test("an event delivered again across batches, concurrently and minutes apart is applied once, emitting the same id", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const event = tallyAdded("c1", 7);
  const batch = feedParams(world.names.in, [event]);
  const first = (await step.run(batch, world.io())) as { messages: { emitted?: string[] }[] };
  const emittedId = first.messages[0]?.emitted?.[0];
  t.truthy(emittedId);
  // Re-fired batches run as concurrent activations.
  const concurrent = await Promise.all([1, 2, 3].map(() => step.run(batch, world.io())));
  for (const answer of concurrent) t.is(applied(answer).duplicate, 1);
  // Minutes later, on a clock that moved on.
  const later = Date.now() + 10 * 60_000;
  const lateAnswer = await step.run(batch, world.io({ now: () => later, deadline: later + 60_000 }));
  t.is(applied(lateAnswer).duplicate, 1);
  t.deepEqual(await entityState(world, "c1"), { total: 7, count: 1 });
  const out = values(await readTopic(world.names.out, { atLeast: 1 }));
  t.deepEqual(
    out.map((e) => e.id),
    [emittedId],
  );
});

test("a re-run of the same event after it was forgotten emits the same event id", async (t) => {
  // Two databases stand for "before" and "after" a crash that lost the write: the derived id does not change.
  const first = await stepWorld(t);
  const second = await stepWorld(t);
  const event = tallyAdded("c1", 2);
  const a = (await tallyStep(first.names).run(feedParams(first.names.in, [event]), first.io())) as {
    messages: { emitted?: string[] }[];
  };
  const b = (await tallyStep(second.names).run(feedParams(second.names.in, [event]), second.io())) as {
    messages: { emitted?: string[] }[];
  };
  t.deepEqual(a.messages[0]?.emitted, b.messages[0]?.emitted);
});

test("two activations changing the same entity at once are both applied, one after the other", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const answers = await Promise.all(
    [1, 2, 3, 4].map((n) => step.run(feedParams(world.names.in, [tallyAdded("shared", n)]), world.io())),
  );
  for (const answer of answers) t.is(applied(answer).applied, 1);
  t.deepEqual(await entityState(world, "shared"), { total: 10, count: 4 });
  const out = values(await readTopic(world.names.out, { atLeast: 4 }));
  t.deepEqual(out.map((e) => (e.data as { count: number }).count).sort(), [1, 2, 3, 4]);
});

test("events of one entity in one batch are applied in offset order", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  await step.run(
    feedParams(
      world.names.in,
      [1, 2, 3].map((n) => tallyAdded("ordered", n)),
    ),
    world.io(),
  );
  const out = values(await readTopic(world.names.out, { atLeast: 3 }));
  t.deepEqual(
    out.map((e) => (e.data as { total: number }).total),
    [1, 3, 6],
  );
});
