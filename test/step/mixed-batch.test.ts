import test from "ava";
import { entityState, feedParams, stepWorld, tallyAdded, tallyStep } from "../support/step-fixture.ts";
import { readTopic, values } from "../support/topic-reader.ts";

test("a batch of 1,000 mixed messages ends with exactly the expected state and topic contents", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStep(world.names);
  // Deterministic mix: 40 counters, new events, duplicates of earlier ones, poison values and handler failures.
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values1000: unknown[] = [];
  const fresh: ReturnType<typeof tallyAdded>[] = [];
  const expected = new Map<string, { total: number; count: number }>();
  let poison = 0;
  let unlucky = 0;
  while (values1000.length < 1000) {
    const roll = random();
    if (roll < 0.15 && fresh.length > 0) {
      values1000.push(fresh[Math.floor(random() * fresh.length)]); // duplicate
    } else if (roll < 0.2) {
      values1000.push(random() < 0.5 ? "{broken" : { specversion: "1.0", id: `p${values1000.length}` });
      poison += 1;
    } else if (roll < 0.22) {
      values1000.push(tallyAdded(`c${Math.floor(random() * 40)}`, 13));
      unlucky += 1;
    } else {
      const counter = `c${Math.floor(random() * 40)}`;
      const amount = 1 + Math.floor(random() * 9);
      const event = tallyAdded(counter, amount);
      fresh.push(event);
      values1000.push(event);
      const before = expected.get(counter) ?? { total: 0, count: 0 };
      expected.set(counter, { total: before.total + amount, count: before.count + 1 });
    }
  }
  const answer = (await step.run(feedParams(world.names.in, values1000), world.io())) as {
    counts: Record<string, number>;
    published: number;
  };
  t.is(answer.counts.applied, fresh.length);
  t.is(answer.counts.duplicate, 1000 - fresh.length - poison - unlucky);
  t.is(answer.counts["dead-lettered"], poison + unlucky);
  t.is(answer.published, fresh.length);
  for (const [counter, state] of expected) t.deepEqual(await entityState(world, counter), state, counter);

  const out = values(await readTopic(world.names.out, { atLeast: fresh.length }));
  t.is(out.length, fresh.length);
  t.is(new Set(out.map((e) => e.id)).size, fresh.length);
  // Per counter, the emitted totals climb in the order the events were applied.
  for (const [counter, state] of expected) {
    const totals = out.filter((e) => e.subject === counter).map((e) => (e.data as { total: number }).total);
    t.is(totals.at(-1), state.total);
    t.deepEqual(
      totals,
      [...totals].sort((a, b) => a - b),
    );
  }
  const letters = await readTopic(world.names.deadLetter, { atLeast: poison + unlucky });
  t.is(letters.length, poison + unlucky);
});
