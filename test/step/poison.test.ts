import test from "ava";
import { entityState, feedParams, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

test("each poison input is dead-lettered with its reason and the rest of the batch is applied", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names, { limits: { maxValueBytes: 10_000 } });
  const good1 = tallyAdded("ok", 1);
  const good2 = tallyAdded("ok", 2);
  const schemaViolation = { ...tallyAdded("x", 1), data: { amount: "one" } };
  const unknownType = { ...tallyAdded("x", 1), type: "tally.exploded" };
  const poisonHandler = tallyAdded("x", 13);
  const oversized = { ...tallyAdded("x", 1), padding: "p".repeat(20_000) };
  const params = feedParams(world.names.in, [
    good1,
    "{not json",
    schemaViolation,
    unknownType,
    poisonHandler,
    oversized,
    good2,
  ]);
  // A tombstone: the record's value is null.
  params.messages.splice(3, 0, { topic: world.names.in, partition: 0, offset: 99, key: null, value: null as never });

  const answer = (await step.run(params, world.io())) as {
    counts: Record<string, number>;
    messages: { status: string; reason?: string }[];
  };
  t.is(answer.counts.applied, 2);
  t.is(answer.counts["dead-lettered"], 6);
  t.deepEqual(await entityState(world, "ok"), { total: 3, count: 2 });

  const letters = values(await readTopic(world.names.deadLetter, { atLeast: 6 }));
  t.deepEqual(letters.map((l) => l.reason).sort(), [
    "handler-failed",
    "invalid-json",
    "null-value",
    "oversized",
    "schema",
    "unknown-type",
  ]);
  for (const letter of letters) {
    t.is(letter.step, "tally.add");
    t.is(typeof letter.message, "string");
    t.truthy((letter.origin as { topic?: string }).topic, "the origin says where the original record is");
  }
  const handlerFailure = letters.find((l) => l.reason === "handler-failed");
  t.is(handlerFailure?.attempts, 3);
  t.regex(String(handlerFailure?.message), /13 is unlucky/);
  t.is(letters.find((l) => l.reason === "invalid-json")?.record, "{not json");
});

test("a malformed feed payload is answered with a clear error and nothing crashes", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const answer = (await step.run({ messages: "not an array" }, world.io())) as { error?: { message: string } };
  t.regex(answer.error?.message ?? "", /messages/);
});

test("an event invoked directly (wsk action invoke -P event.json) is applied like a fed one", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  const event = tallyAdded("direct", 4);
  const answer = (await step.run({ ...event, cloudant_url: "bound-parameters-are-ignored" }, world.io())) as {
    counts: Record<string, number>;
  };
  t.is(answer.counts.applied, 1);
  t.deepEqual(await entityState(world, "direct"), { total: 4, count: 1 });
});
