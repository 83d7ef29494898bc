import test from "ava";
import { defineOutboxRelay } from "../../lib/step/index.ts";
import {
  Crash,
  entityState,
  feedParams,
  killedAfterWrite,
  type StepWorld,
  stepWorld,
  tallyAdded,
  tallyStep,
} from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

function relayFor(world: StepWorld) {
  return defineOutboxRelay({ name: "test-relay", databases: [world.names.database], graceMs: 0 });
}

/** Runs the relay, on a clock that may be set past an activation's deadline instead of waiting for it. */
async function runRelay(world: StepWorld, at?: number) {
  return relayFor(world).run(world.relayIO(at === undefined ? {} : { now: () => at, deadline: at + 60_000 }));
}

for (const point of ["beforeWrite", "afterWrite", "afterPublish"] as const) {
  test(`a crash ${point}: after the feed fires the batch again and the relay runs, every event is out once in effect`, async (t) => {
    const world = await stepWorld(t);
    const step = tallyStep(world.names);
    const batch = feedParams(world.names.in, [tallyAdded("a", 1), tallyAdded("b", 2), tallyAdded("a", 3)]);
    await t.throwsAsync(
      step.run(
        batch,
        world.io({
          crash: {
            [point]: () => {
              throw new Crash(point);
            },
          },
        }),
      ),
      { instanceOf: Crash },
    );
    // The feed fires a batch again when it crashed before committing; the relay then runs on its alarm.
    const again = (await step.run(batch, world.io())) as { counts: Record<string, number> };
    const relay = await runRelay(world);
    t.false("error" in relay, JSON.stringify(relay));

    t.deepEqual(await entityState(world, "a"), { total: 4, count: 2 });
    t.deepEqual(await entityState(world, "b"), { total: 2, count: 1 });
    const expectedApplied = point === "beforeWrite" ? 3 : 0;
    t.is(again.counts.applied, expectedApplied);
    t.is(again.counts.duplicate, 3 - expectedApplied);

    const out = values(await readTopic(world.names.out, { atLeast: 3 }));
    const ids = new Set(out.map((e) => e.id));
    t.is(ids.size, 3, "three distinct events");
    // After a crash past publishing, the relay or the re-fire may publish an event again: same id, absorbed downstream.
    if (point === "beforeWrite") t.is(out.length, 3);
    const totals = [...new Map(out.map((e) => [e.id, e])).values()].map(
      (e) => `${e.subject}:${(e.data as { total: number }).total}`,
    );
    t.deepEqual(totals.sort(), ["a:1", "a:4", "b:2"]);
  });
}

test("a crash after the write and no re-fire: the relay alone publishes the outbox and clears it", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  await t.throwsAsync(
    step.run(feedParams(world.names.in, [tallyAdded("solo", 5)]), killedAfterWrite(world, new Crash("afterWrite"))),
  );
  const relay = (await runRelay(world)) as { databases: { published: number; stillPending: number }[] };
  t.is(relay.databases[0]?.published, 1);
  t.is(relay.databases[0]?.stillPending, 0);
  const second = (await runRelay(world)) as { databases: { published: number }[] };
  t.is(second.databases[0]?.published, 0, "a cleared outbox is not published again");
  const out = values(await readTopic(world.names.out, { atLeast: 1 }));
  t.is(out.length, 1);
  t.is(out[0]?.subject, "solo");
});

test("only one relay works a database at a time", async (t) => {
  const world = await stepWorld(t);
  const relay = relayFor(world);
  const io = world.relayIO({ deadline: Date.now() + 30_000 });
  const [a, b] = await Promise.all([relay.run({ ...io, holder: "one" }), relay.run({ ...io, holder: "two" })]);
  const skipped = [a, b].map((r) => (r as { databases: { skipped?: string }[] }).databases[0]?.skipped).filter(Boolean);
  t.is(skipped.length, 1);
  t.regex(skipped[0] ?? "", /lease/);
});

test("a crash before the write and no re-fire: the relay sends the landed batch to the retry topic, which applies it", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const batch = feedParams(world.names.in, [tallyAdded("lost", 1), tallyAdded("lost", 2), "{poison"]);
  const deadline = Date.now() + 60_000;
  await t.throwsAsync(
    step.run(
      batch,
      world.io({
        deadline,
        crash: {
          beforeWrite: () => {
            throw new Crash("beforeWrite");
          },
        },
      }),
    ),
  );
  t.is(await entityState(world, "lost"), undefined, "nothing was applied");
  // The relay waits for the activation's deadline: until then the activation may still be running.
  const early = (await runRelay(world)) as { databases: { resent: number }[] };
  t.is(early.databases[0]?.resent, 0);
  const relay = (await runRelay(world, deadline + 1)) as { databases: { resent: number }[] };
  t.is(relay.databases[0]?.resent, 3);

  const retried = await readTopic(world.names.retry, { atLeast: 3 });
  const again = (await step.run(
    feedParams(
      world.names.retry,
      retried.map((r) => r.value),
    ),
    world.io(),
  )) as { counts: Record<string, number> };
  t.is(again.counts.applied, 2);
  t.is(again.counts["dead-lettered"], 1);
  t.deepEqual(await entityState(world, "lost"), { total: 3, count: 2 });
  const second = (await runRelay(world, deadline + 2)) as { databases: { resent: number }[] };
  t.is(second.databases[0]?.resent, 0, "the landed batch was deleted with its re-send");
});
