import test from "ava";
import { z } from "zod";
import { defineEventCatalog, EventSchemaError } from "../../lib/events/catalog.ts";
import { deriveEventId, rootEventId } from "../../lib/events/derived-id.ts";
import { idempotencyKey } from "../../lib/events/envelope.ts";

const catalog = defineEventCatalog({
  "order.placed": z.object({ quantity: z.number().int().positive() }),
});

const valid = {
  specversion: "1.0",
  id: "e1",
  source: "/shop",
  type: "order.placed",
  time: "2026-11-23T08:00:00Z",
  subject: "order-1",
  datacontenttype: "application/json",
  data: { quantity: 2 },
  sagaid: "s1",
};

test("a valid event parses with its typed data", (t) => {
  const parsed = catalog.parse(valid);
  t.true(parsed.ok);
  if (parsed.ok) t.is(parsed.event.data.quantity, 2);
});

test("schema violations name the field and the problem", (t) => {
  const parsed = catalog.parse({ ...valid, data: { quantity: "two" } });
  t.deepEqual(parsed.ok ? undefined : [parsed.reason, parsed.message.startsWith("order.placed: data.quantity:")], [
    "schema",
    true,
  ]);
});

test("an unknown type, a broken envelope and a bad extension name are told apart", (t) => {
  const unknown = catalog.parse({ ...valid, type: "order.exploded" });
  t.deepEqual(unknown.ok ? undefined : [unknown.reason, unknown.message], [
    "unknown-type",
    "unknown event type order.exploded",
  ]);
  const noId = catalog.parse({ ...valid, id: "" });
  t.is(noId.ok ? undefined : noId.reason, "envelope");
  const wrongVersion = catalog.parse({ ...valid, specversion: "0.3" });
  t.is(wrongVersion.ok ? undefined : wrongVersion.reason, "envelope");
  const badExtension = catalog.parse({ ...valid, Saga_Id: "x" });
  t.deepEqual(badExtension.ok ? undefined : [badExtension.reason, badExtension.message], [
    "envelope",
    "extension names must be [a-z0-9]{1,20}: Saga_Id",
  ]);
  const tooLong = catalog.parse({ ...valid, abcdefghijklmnopqrstu: "x" });
  t.false(tooLong.ok);
  t.true(catalog.parse({ ...valid, traceparent: "00-abc" }).ok, "well-named extensions pass");
  t.is((catalog.parse("text") as { reason: string }).reason, "envelope");
});

test("building an event validates it and refuses bad data with a typed error", (t) => {
  const fields = { id: "e2", source: "/shop", subject: "o", time: "2026-11-23T08:00:00.000Z" };
  t.is(catalog.build("order.placed", { ...fields, data: { quantity: 1 } }).specversion, "1.0");
  t.throws(() => catalog.build("order.placed", { ...fields, data: { quantity: -1 } }), {
    instanceOf: EventSchemaError,
  });
});

test("the idempotency key cannot be forged by moving characters between source and id", (t) => {
  t.not(idempotencyKey({ source: "a b", id: "c" }), idempotencyKey({ source: "a", id: "b c" }));
  t.is(idempotencyKey({ source: "/s", id: "1" }), '["/s","1"]');
});

test("derived ids are stable, distinct per input, step and position, and valid UUIDv8", (t) => {
  const id = deriveEventId("k", "step", 0);
  t.is(id, deriveEventId("k", "step", 0));
  const others = [
    deriveEventId("k", "step", 1),
    deriveEventId("k", "other", 0),
    deriveEventId("k2", "step", 0),
    rootEventId("k"),
  ];
  t.is(new Set([id, ...others]).size, 5);
  for (const candidate of [id, ...others])
    t.regex(candidate, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.throws(() => deriveEventId("k", "s", -1));
});
