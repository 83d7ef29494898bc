// An emitted event that breaks its own schema is a bug in the handler, not bad input: the input is dead-lettered as
// emit-invalid, the entity is left as it was, and the rest of the batch goes on; on every kind of step.
import test from "ava";
import { defineKeyedStep } from "../../lib/step/index.ts";
import { testCloudant } from "../support/services.ts";
import { catalog, entityState, feedParams, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

type Answer = { counts: Record<string, number>; messages: { status: string; reason?: string }[] };

test("entity step: an emit that breaks its schema dead-letters the input as emit-invalid; the rest applies", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names, {
    handle: (event, state) => {
      const { amount } = event.data as { amount: number };
      const next = { total: (state?.total ?? 0) + amount, count: (state?.count ?? 0) + 1 };
      // 7 makes the handler emit a total that is not a number.
      const data = amount === 7 ? { ...next, total: "seven" } : next;
      return { state: next, emit: [{ type: "tally.changed", data }] };
    },
  });
  const answer = (await step.run(
    feedParams(world.names.in, [tallyAdded("c", 2), tallyAdded("c", 7), tallyAdded("c", 3)]),
    world.io(),
  )) as Answer;
  t.deepEqual(
    answer.messages.map((m) => [m.status, m.reason]),
    [
      ["applied", undefined],
      ["dead-lettered", "emit-invalid"],
      ["applied", undefined],
    ],
  );
  t.deepEqual(await entityState(world, "c"), { total: 5, count: 2 }, "the refused input changed nothing");
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1 }));
  t.is(letters.length, 1);
  t.like(letters[0], { step: "tally.add", reason: "emit-invalid", attempts: 1 });
  t.regex(String(letters[0]?.message), /cannot emit tally\.changed: .*data\.total/);
});

test("keyed step: an emit that breaks its schema is dead-lettered as emit-invalid after one call, and the key is free again", async (t) => {
  const world = await stepWorld(t);
  let calls = 0;
  const step = defineKeyedStep({
    name: "tally.note",
    catalog,
    handles: ["tally.added"],
    database: world.names.database,
    handle: (event) => {
      calls += 1;
      return { result: { seen: event.id }, emit: [{ type: "tally.noted", data: { note: 7 } as never }] };
    },
    routes: { "tally.noted": world.names.out },
    topics: { retry: world.names.retry, deadLetter: world.names.deadLetter },
  });
  const event = tallyAdded("k", 7);
  const answer = (await step.run(feedParams(world.names.in, [event]), world.io())) as Answer;
  t.deepEqual(
    answer.messages.map((m) => [m.status, m.reason]),
    [["dead-lettered", "emit-invalid"]],
  );
  t.is(calls, 1, "a schema error does not pass by itself: the handler is not called again");
  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 1 }));
  t.like(letters[0], { step: "tally.note", reason: "emit-invalid" });
  const records = await testCloudant().postAllDocs({
    db: world.names.database,
    startKey: "idem:",
    endKey: "idem:\ufff0",
  });
  t.is(records.result.rows.length, 0, "the lock is released, so a replay of the letter can claim the key");
});
