import test from "ava";
import { applyToRoster, daysBetween, type Roster } from "../../functions/crews/roster.ts";
import { applyToStock, type Stock } from "../../functions/parts/stock.ts";
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

function stockAfter(events: ReturnType<typeof opened>[], config = { stock_default: 2 }) {
  let stock: Stock | undefined;
  const emitted: string[] = [];
  for (const event of events) {
    const result = applyToStock(event, stock, context(now, config));
    stock = result.state;
    emitted.push(...result.emit.map((e) => e.type));
  }
  const reservedCount = Object.values(stock?.reservations ?? {}).filter((r) => r === "reserved").length;
  return { stock, emitted, reservedCount };
}

test("parts reserve until the stock runs out, then answer unavailable; stock is conserved", (t) => {
  const { stock, emitted, reservedCount } = stockAfter([opened("a"), opened("b"), opened("c")]);
  t.deepEqual(emitted, ["part.reserved", "part.reserved", "part.unavailable"]);
  t.is((stock?.available ?? 0) + reservedCount, stock?.atStart ?? -1);
});

test("a cancellation releases a reserved part once, and one that overtook the opening prevents the reservation", (t) => {
  const released = stockAfter([opened("a"), cancelled("a"), cancelled("a")]);
  t.deepEqual(released.emitted, ["part.reserved", "part.released"]);
  t.is(released.stock?.available, 2);
  const overtaken = stockAfter([cancelled("b"), opened("b")]);
  t.deepEqual(overtaken.emitted, []);
  t.is(overtaken.stock?.available, 2);
});

test("the stock at start comes from stock_<partType>, else stock_default", (t) => {
  t.is(stockAfter([opened("a")], { stock_default: 5, "stock_seal-kit": 1 } as never).stock?.atStart, 1);
});

function rosterAfter(events: ReturnType<typeof opened>[], capacity = 1) {
  let roster: Roster | undefined;
  const emitted: string[] = [];
  for (const event of events) {
    const result = applyToRoster(event, roster, context(now, { crews_capacity_per_day: capacity }));
    roster = result.state;
    emitted.push(...result.emit.map((e) => e.type));
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
