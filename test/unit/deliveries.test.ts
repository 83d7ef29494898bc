import test from "ava";
import { catalog } from "../../functions/events.ts";
import { deliveryEvents } from "../../functions/parts/deliveries.ts";
import { restockDoc, restockSchema } from "../../functions/parts/restock.ts";

test("a scheduled delivery is a function of its minute: a tick that runs twice sends the same events", (t) => {
  const at = Date.parse("2026-11-30T10:15:12Z");
  const first = deliveryEvents(["cooling-fan", "seal-kit"], 2, at);
  const again = deliveryEvents(["cooling-fan", "seal-kit"], 2, at + 40_000);
  t.deepEqual(JSON.stringify(again), JSON.stringify(first));
  t.is(first[0]?.time, "2026-11-30T10:15:00.000Z");
  t.like(first[0]?.data, { partType: "cooling-fan", quantity: 2, deliveredBy: "schedule" });
  const next = deliveryEvents(["cooling-fan"], 2, at + 60_000);
  t.not(next[0]?.id, first[0]?.id, "the next minute is another delivery");
  for (const event of first) t.true(catalog.parse(JSON.parse(JSON.stringify(event))).ok);
});

test("an operator's delivery: whole positive quantities, a part type, and the same id for the same delivery", (t) => {
  t.false(restockSchema.safeParse({ partType: "cooling-fan", quantity: 2.5 }).success);
  t.false(restockSchema.safeParse({ partType: "cooling-fan", quantity: 0 }).success);
  t.false(restockSchema.safeParse({ partType: "Cooling Fan", quantity: 1 }).success);
  const input = restockSchema.parse({ partType: "cooling-fan", quantity: 5, deliveryId: "po-77" });
  const doc = restockDoc(input, Date.parse("2026-11-30T10:00:00Z"), "parts.deliveries");
  const later = restockDoc(input, Date.parse("2026-11-30T11:00:00Z"), "parts.deliveries");
  t.is(doc._id, "operator-restock:po-77");
  t.is(later.eventId, doc.eventId, "a retried request records the same event id");
  t.like(doc.outbox[0], { topic: "parts.deliveries", key: "cooling-fan" });
  t.like(doc.outbox[0]?.event.data, { quantity: 5, deliveredBy: "operator", deliveryId: "po-77" });
});
