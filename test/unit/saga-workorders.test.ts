import test from "ava";
import type { SagaEmit } from "../../functions/events.ts";
import type { StepEvent } from "../../functions/steps.ts";
import { decide, evolve, isTerminal, type WorkOrder } from "../../functions/workorders/saga.ts";
import { context, sagaEvent } from "../support/saga-events.ts";

const now = Date.parse("2026-11-23T09:00:00Z");
const requested = sagaEvent("maintenance.requested", "inc-1", {
  incidentId: "inc-1",
  assetId: "pump-1",
  site: "north",
  problem: "overheating",
  partType: "cooling-fan",
  skill: "mechanical",
  requestedBy: "monitoring",
  detectedAt: "2026-11-23T08:59:00Z",
});

/** Runs inputs through decide and evolve as the stream step does; returns the emitted types and the final state. */
function run(inputs: StepEvent<"workorders.saga">[], config = {}) {
  let state: WorkOrder | undefined;
  const emitted: SagaEmit[] = [];
  for (const input of inputs) {
    const emits = decide(input, state, context(now, config));
    emitted.push(...emits);
    state = evolve(state, input);
    for (const e of emits) state = evolve(state, sagaEvent(e.type as never, e.subject ?? "", e.data as never));
  }
  const dataOf = (index: number) => (emitted[index]?.data ?? {}) as Record<string, string>;
  return { state, types: emitted.map((e) => e.type), emitted, dataOf };
}

const wo = "wo-inc-1";
const partReserved = sagaEvent("part.reserved", wo, {
  workOrderId: wo,
  partType: "cooling-fan",
  site: "north",
  skill: "mechanical",
  deadline: "2026-11-23T09:10:00Z",
});
const crewAssigned = sagaEvent("crew.assigned", wo, {
  workOrderId: wo,
  crewId: "north-mechanical",
  site: "north",
  day: "2026-11-23",
});

test("happy path: requested, opened, part reserved, crew assigned, scheduled", (t) => {
  const { state, types, dataOf } = run([requested, partReserved, crewAssigned]);
  t.deepEqual(types, ["workorder.opened", "workorder.scheduled"]);
  t.is(state?.status, "scheduled");
  t.is(dataOf(0).deadline, "2026-11-23T09:10:00.000Z");
});

test("the deadline comes from the bound parameter workorder_deadline_ms", (t) => {
  const { dataOf } = run([requested], { workorder_deadline_ms: "60000" });
  t.is(dataOf(0).deadline, "2026-11-23T09:01:00.000Z");
});

test("no part: the work order is cancelled", (t) => {
  const { state, dataOf } = run([
    requested,
    sagaEvent("part.unavailable", wo, { workOrderId: wo, partType: "cooling-fan" }),
  ]);
  t.is(state?.status, "cancelled");
  t.is(dataOf(1).reason, "no-part");
});

test("no crew: the work order is cancelled, which makes parts release the part", (t) => {
  const noCrew = sagaEvent("crew.unavailable", wo, { workOrderId: wo, site: "north", skill: "mechanical" });
  const { state, emitted } = run([requested, partReserved, noCrew]);
  t.is(state?.status, "cancelled");
  t.deepEqual(emitted[1]?.data, {
    workOrderId: wo,
    site: "north",
    partType: "cooling-fan",
    reason: "no-crew",
    detail: "no mechanical technician at north before the deadline",
  });
});

test("the compensations come back: part.released and crew.released are recorded on the order, once, emitting nothing", (t) => {
  const noCrew = sagaEvent("crew.unavailable", wo, { workOrderId: wo, site: "north", skill: "mechanical" });
  const partReleased = sagaEvent("part.released", wo, { workOrderId: wo, partType: "cooling-fan" });
  const crewReleased = sagaEvent("crew.released", wo, {
    workOrderId: wo,
    crewId: "north-mechanical",
    day: "2026-11-23",
  });
  const { state, types } = run([requested, partReserved, noCrew, partReleased, crewReleased, partReleased]);
  t.deepEqual(types, ["workorder.opened", "workorder.cancelled"]);
  t.is(state?.status, "cancelled");
  t.deepEqual(state?.released, ["part", "crew"]);
});

test("deadline passed: an open order is cancelled; a scheduled one is left alone", (t) => {
  const passed = sagaEvent("workorder.deadline.passed", wo, { workOrderId: wo, deadline: "2026-11-23T09:10:00Z" });
  const open = run([requested, partReserved, passed]);
  t.is(open.state?.status, "cancelled");
  t.is(open.state?.cancelReason, "deadline");
  const done = run([requested, partReserved, crewAssigned, passed]);
  t.deepEqual(done.types, ["workorder.opened", "workorder.scheduled"]);
});

test("an operator's cancellation cancels an open order once; late news after a terminal state emits nothing", (t) => {
  const cancel = sagaEvent("workorder.cancel.requested", wo, {
    workOrderId: wo,
    reason: "pump replaced",
    requestedBy: "op-7",
  });
  const { state, types } = run([requested, cancel, cancel, partReserved, crewAssigned]);
  t.deepEqual(types, ["workorder.opened", "workorder.cancelled"]);
  t.true(isTerminal(state));
  t.is(state?.cancelReason, "operator");
});

test("the same incident requested twice opens one work order", (t) => {
  t.deepEqual(run([requested, requested]).types, ["workorder.opened"]);
});

test("news about a work order that was never requested is refused (dead-lettered by the kit)", (t) => {
  t.throws(() => decide(partReserved, undefined, context(now)), { message: /never requested/ });
});
