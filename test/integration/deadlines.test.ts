// The deadline alarm on the real store and Kafka, with the work-order saga's own decisions: it finds a stuck work
// order however many finished ones came before it, and scanning twice sends the very same command twice.
import test from "ava";
import { catalog } from "../../functions/events.ts";
import { ensureWorkOrderIndexes } from "../../functions/resources.ts";
import { overdueWorkOrders, sendOverdue } from "../../functions/workorders/deadlines.ts";
import { sagaSpec } from "../../functions/workorders/saga-step.ts";
import { defineStreamStep } from "../../lib/step/index.ts";
import { sagaEvent } from "../support/saga-events.ts";
import { testCloudant } from "../support/services.ts";
import { feedParams, stepWorld } from "../support/step-fixture.ts";
import { readTopic } from "../support/topic-reader.ts";

const requested = (incident: string) =>
  sagaEvent("maintenance.requested", incident, {
    incidentId: incident,
    assetId: `pump-${incident}`,
    site: "harbour",
    problem: "overheating",
    partType: "cooling-fan",
    skill: "mechanical",
    requestedBy: "monitoring",
    detectedAt: new Date().toISOString(),
  });

test("the deadline scan finds a stuck work order behind 1,200 finished ones, and sends the same command each scan", async (t) => {
  t.timeout(240_000);
  const world = await stepWorld(t);
  await ensureWorkOrderIndexes(testCloudant(), world.names.database);
  const step = defineStreamStep({
    ...sagaSpec,
    database: world.names.database,
    routes: Object.fromEntries(catalog.types.map((type) => [type, world.names.out])),
    topics: { retry: world.names.retry, deadLetter: world.names.deadLetter },
  });
  // Deadlines 1 ms after opening: every order is overdue at once.
  const io = () => world.io({ config: { workorder_deadline_ms: 1 } });
  const finished = Array.from({ length: 1_200 }, (_, i) => `done-${i}`);
  await step.run(feedParams(world.names.in, finished.map(requested)), io());
  const unavailable = finished.map((incident) =>
    sagaEvent("part.unavailable", `wo-${incident}`, { workOrderId: `wo-${incident}`, partType: "cooling-fan" }),
  );
  const answer = (await step.run(feedParams(world.names.in, unavailable), io())) as { counts: { applied: number } };
  t.is(answer.counts.applied, 1_200, "1,200 work orders cancelled for want of a part");
  await step.run(feedParams(world.names.in, [requested("stuck")]), io());
  await new Promise((resolve) => setTimeout(resolve, 20));

  const overdue = await overdueWorkOrders(testCloudant(), Date.now(), world.names.database);
  t.deepEqual(
    overdue.map((o) => o.workOrderId),
    ["wo-stuck"],
  );

  const clients = { cloudant: testCloudant(), producer: async () => world.producer };
  const targets = { database: world.names.database, topic: world.names.in };
  await sendOverdue(clients, Date.now(), Date.now() + 30_000, targets);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await sendOverdue(clients, Date.now(), Date.now() + 30_000, targets);
  const sent = await readTopic(world.names.in, { atLeast: 2 });
  t.is(sent.length, 2);
  t.is(sent[0]?.value, sent[1]?.value, "one id, one content: the second scan sends the same bytes");
  t.is(JSON.parse(sent[0]?.value ?? "{}").type, "workorder.deadline.passed");
});
