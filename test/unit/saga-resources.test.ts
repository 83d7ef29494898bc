import test from "ava";
import { applyToRoster, daysBetween, type Roster } from "../../functions/crews/roster.ts";
import { applyToStock, reservedCount, type Stock } from "../../functions/parts/stock.ts";
import type { StepEvent } from "../../functions/steps.ts";
import { context, sagaEvent } from "../support/saga-events.ts";

const now = Date.parse("2026-11-23T09:00:00Z");
const opened = (wo: string) =>
  sagaEvent("workorder.opened", wo, {
    workOrderId: wo,
    incidentId: "i",
    assetId: "p",
    site: "north",
    partType: "seal-kit",
    skill: "hydraulic",
    deadline: "2026-11-24T09:00:00Z",
  });
const cancelled = (wo: string) =>
  sagaEvent("workorder.cancelled", wo, {
    workOrderId: wo,
    site: "north",
    partType: "seal-kit",
    reason: "deadline",
    detail: "",
  });
const reserved = (wo: string) =>
  sagaEvent("part.reserved", wo, {
    workOrderId: wo,
    partType: "seal-kit",
    site: "north",
    skill: "hydraulic",
    deadline: "2026-11-23T20:00:00Z",
  });

const scheduled = (wo: string) =>
  sagaEvent("workorder.scheduled", wo, { workOrderId: wo, partType: "seal-kit", crewId: "c", day: "2026-11-23" });
const restocked = (quantity: number, deliveryId = "d1") =>
  sagaEvent("parts.restocked", "seal-kit", { partType: "seal-kit", quantity, deliveryId, deliveredBy: "schedule" });

function stockAfter(events: StepEvent<"parts.stock">[], config: Record<string, unknown> = { stock_default: 2 }) {
  let stock: Stock | undefined;
  const emitted: string[] = [];
  for (const event of events) {
    const result = applyToStock(event, stock, context(now, config));
    stock = result.state;
    emitted.push(...(result.emit ?? []).map((e) => e.type));
  }
  return { stock, emitted, reservedCount: stock ? reservedCount(stock) : 0 };
}

const conserved = (stock: Stock | undefined) =>
  stock !== undefined && stock.available + reservedCount(stock) + stock.consumed === stock.atStart + stock.restocked;

test("parts reserve until the stock runs out, then answer unavailable; stock is conserved", (t) => {
  const { stock, emitted } = stockAfter([opened("a"), opened("b"), opened("c")]);
  t.deepEqual(emitted, ["part.reserved", "part.reserved", "part.unavailable"]);
  t.true(conserved(stock));
});

test("a scheduled order consumes its part; a delivery adds to the stock; both are conserved", (t) => {
  const { stock, emitted } = stockAfter([opened("a"), scheduled("a"), restocked(3), opened("b"), scheduled("a")]);
  t.deepEqual(emitted, ["part.reserved", "part.reserved"]);
  t.like(stock, { atStart: 2, restocked: 3, consumed: 1, available: 3 });
  t.deepEqual(Object.keys(stock?.reserved ?? {}), ["b"]);
  t.true(conserved(stock));
});

test("stock and capacity must be whole numbers: 2.5 or -1 is a configuration error naming the parameter", (t) => {
  t.throws(() => stockAfter([opened("a")], { stock_default: "2.5" }), {
    message: /stock_default: must be a whole number/,
  });
  t.throws(() => stockAfter([opened("a")], { stock_by_part_type: "seal-kit=-1" }), {
    message: /stock_by_part_type: "seal-kit=-1" is not type=count/,
  });
  t.throws(() => rosterAfter([reserved("a")], 1.5), { message: /crews_capacity_per_day: must be a whole number/ });
});

test("stock_by_part_type sets some part types' stock at start; the others start with stock_default", (t) => {
  t.like(stockAfter([opened("a")], { stock_by_part_type: "seal-kit=0, bearing=7", stock_default: "4" }).stock, {
    atStart: 0,
    available: 0,
  });
  t.like(stockAfter([opened("a")], { stock_by_part_type: "bearing=7", stock_default: "4" }).stock, {
    atStart: 4,
    available: 3,
  });
});

test("closed work orders are remembered for the retention window and count, no longer", (t) => {
  const retention = { windowMs: 60_000, maxKeysPerEntity: 3 };
  let stock: Stock | undefined;
  let at = now;
  for (const wo of ["a", "b", "c", "d", "e"]) {
    at += 1_000;
    stock = applyToStock(cancelled(wo), stock, { ...context(at, { stock_default: 1 }), retention }).state;
  }
  t.deepEqual(
    stock?.closed.map(([id]) => id),
    ["c", "d", "e"],
    "the newest 3",
  );
  stock = applyToStock(cancelled("f"), stock, { ...context(at + 61_000, {}), retention }).state;
  t.deepEqual(
    stock.closed.map(([id]) => id),
    ["f"],
    "none older than the window",
  );
});

test("a cancellation releases a reserved part once, and one that overtook the opening prevents the reservation", (t) => {
  const released = stockAfter([opened("a"), cancelled("a"), cancelled("a")]);
  t.deepEqual(released.emitted, ["part.reserved", "part.released"]);
  t.is(released.stock?.available, 2);
  const overtaken = stockAfter([cancelled("b"), opened("b")]);
  t.deepEqual(overtaken.emitted, []);
  t.is(overtaken.stock?.available, 2);
});

function rosterAfter(events: StepEvent<"crews.roster">[], capacity = 1, at = now, start?: Roster) {
  let roster: Roster | undefined = start;
  const emitted: string[] = [];
  for (const event of events) {
    const result = applyToRoster(event, roster, context(at, { crews_capacity_per_day: capacity }));
    roster = result.state;
    emitted.push(...(result.emit ?? []).map((e) => e.type));
  }
  return { roster, emitted };
}

test("crews assign a technician with the skill and capacity left, then answer unavailable", (t) => {
  // Capacity 1 per day; the hydraulic technician and the all-rounder can each take one order today.
  const { roster, emitted } = rosterAfter([reserved("a"), reserved("b"), reserved("c")]);
  t.deepEqual(emitted, ["crew.assigned", "crew.assigned", "crew.unavailable"]);
  for (const days of Object.values(roster?.load ?? {})) for (const load of Object.values(days)) t.true(load <= 1);
});

test("a cancellation releases the crew once; one that overtook the request prevents the assignment", (t) => {
  const { roster, emitted } = rosterAfter([
    reserved("a"),
    cancelled("a"),
    cancelled("a"),
    cancelled("b"),
    reserved("b"),
  ]);
  t.deepEqual(emitted, ["crew.assigned", "crew.released"]);
  t.deepEqual(
    Object.values(roster?.load ?? {}).flatMap((days) => Object.values(days)),
    [0],
  );
});

test("daysBetween lists each day up to the deadline, and at least the first", (t) => {
  t.deepEqual(daysBetween(now, Date.parse("2026-11-25T01:00:00Z")), ["2026-11-23", "2026-11-24", "2026-11-25"]);
  t.deepEqual(daysBetween(now, now - 1), ["2026-11-23"]);
});

test("a past day's assignments and load are dropped, and its work orders closed", (t) => {
  const { roster } = rosterAfter([reserved("a")]);
  t.deepEqual(Object.keys(roster?.assigned ?? {}), ["a"]);
  const nextDay = now + 86_400_000;
  const later = rosterAfter([reserved("b")], 1, nextDay, roster);
  t.deepEqual(Object.keys(later.roster?.assigned ?? {}), ["b"]);
  t.true(
    later.roster?.closed.some(([id]) => id === "a"),
    "yesterday's order is closed",
  );
  t.false(
    Object.values(later.roster?.load ?? {}).some((days) => "2026-11-23" in days),
    "yesterday's load is gone",
  );
  t.deepEqual(rosterAfter([cancelled("a")], 1, nextDay, later.roster).emitted, [], "nothing to release any more");
});
