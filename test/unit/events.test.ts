import test from "ava";
import * as z from "zod";
import { defineEventCatalog, EventSchemaError } from "../../lib/events/catalog.ts";
import { deriveEventId, rootEventId } from "../../lib/events/derived-id.ts";
import { idempotencyKey } from "../../lib/events/envelope.ts";

const catalog = defineEventCatalog({
  "order.placed": z.object({
    quantity: z.number().int().positive(),
    lines: z.array(z.object({ sku: z.string() })).default([]),
  }),
  "order.cancelled": z.object({ why: z.string() }),
});

const valid = {
  specversion: "1.0",
  id: "e1",
  source: "/shop",
  type: "order.placed",
  time: "2026-11-23T08:00:00Z",
  subject: "order-1",
  datacontenttype: "application/json",
  data: { quantity: 2, lines: [{ sku: "A" }] },
  sagaid: "s1",
};

const failure = (value: unknown) => {
  const parsed = catalog.parse(value);
  return parsed.ok ? "parsed" : `${parsed.reason} | ${parsed.message}`;
};

test("a valid event parses with its typed data, its extensions kept", (t) => {
  const parsed = catalog.parse({ ...valid, traceparent: "00-abc", causationid: "e0" });
  if (!parsed.ok) return t.fail(parsed.message);
  t.deepEqual(parsed.event, { ...valid, traceparent: "00-abc", causationid: "e0" });
  if (parsed.event.type === "order.placed") t.is(parsed.event.data.quantity, 2);
});

test("a missing datacontenttype means JSON; data defaults from the schema are applied", (t) => {
  const { datacontenttype: _, ...withoutContentType } = valid;
  const parsed = catalog.parse({ ...withoutContentType, data: { quantity: 1 } });
  if (!parsed.ok) return t.fail(parsed.message);
  t.is(parsed.event.datacontenttype, "application/json");
  t.deepEqual(parsed.event.data, { quantity: 1, lines: [] });
});

test("schema violations name the field, the problem and the value that came", (t) => {
  t.is(
    failure({ ...valid, data: { quantity: "two" } }),
    "schema | order.placed: data.quantity: Invalid input: expected number, received string",
  );
  t.is(
    failure({ ...valid, data: { quantity: -1 } }),
    "schema | order.placed: data.quantity: Too small: expected number to be >0 (got -1)",
  );
  t.is(
    failure({ ...valid, data: { quantity: 1, lines: [{ sku: "A" }, { sku: 7 }] } }),
    "schema | order.placed: data.lines[1].sku: Invalid input: expected string, received number",
  );
  t.is(
    failure({ ...valid, type: "order.cancelled", data: undefined }),
    "schema | order.cancelled: data: Invalid input: expected object, received undefined",
  );
});

test("beyond three problems the message counts the rest", (t) => {
  const many = defineEventCatalog({ "x.y": z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string() }) });
  const parsed = many.parse({ ...valid, type: "x.y", data: {} });
  t.is(
    parsed.ok ? "parsed" : parsed.message,
    "x.y: data.a: Invalid input: expected string, received undefined; " +
      "data.b: Invalid input: expected string, received undefined; " +
      "data.c: Invalid input: expected string, received undefined; and 1 more",
  );
});

test("a broken envelope says which attribute and why", (t) => {
  const { id: _, ...withoutId } = valid;
  t.is(failure(withoutId), "envelope | id: Invalid input: expected string, received undefined");
  t.is(failure({ ...valid, id: "" }), 'envelope | id: Too small: expected string to have >=1 characters (got "")');
  t.is(failure({ ...valid, specversion: "0.3" }), 'envelope | specversion: Invalid input: expected "1.0" (got "0.3")');
  t.is(
    failure({ ...valid, time: "2026-11-23T08:00:00" }),
    'envelope | time: Invalid ISO datetime (got "2026-11-23T08:00:00")',
  );
  t.is(
    failure({ ...valid, subject: undefined }),
    "envelope | subject: Invalid input: expected string, received undefined",
  );
  t.is(
    failure({ ...valid, datacontenttype: "text/plain" }),
    'envelope | datacontenttype: Invalid input: expected "application/json" (got "text/plain")',
  );
  t.is(failure({ ...valid, sagaid: 42 }), "envelope | sagaid: Invalid input: expected string, received number");
  t.is(failure("text"), "envelope | the event is a string, not a JSON object");
  t.is(failure([valid]), "envelope | the event is an array, not a JSON object");
  t.is(failure(null), "envelope | the event is null, not a JSON object");
});

test("RFC 3339 times with a zone pass, with or without fractions", (t) => {
  for (const time of ["2026-11-23T08:00:00Z", "2026-11-23T08:00:00.123+01:00", "2026-11-23T08:00:00-05:30"])
    t.is(failure({ ...valid, time }), "parsed", time);
  for (const time of ["2026-11-23 08:00:00Z", "2026-11-23T08:00Z", "2026-11-23", "1700000000000"])
    t.regex(failure({ ...valid, time }), /^envelope \| time: /, time);
});

test("extension names must be lowercase letters and digits, at most 20 characters", (t) => {
  t.is(
    failure({ ...valid, Saga_Id: "x" }),
    'envelope | extension name "Saga_Id" is invalid: only a-z and 0-9 are allowed',
  );
  t.is(
    failure({ ...valid, abcdefghijklmnopqrstu: "x" }),
    'envelope | extension name "abcdefghijklmnopqrstu" is invalid: it has 21 characters, more than 20',
  );
  t.is(
    failure({ ...valid, "trace-parent-of-this-event": "x" }),
    'envelope | extension name "trace-parent-of-this-event" is invalid: only a-z and 0-9 are allowed, it has 26 characters, more than 20',
  );
  t.is(
    failure({ ...valid, data_base64: "AAAA" }),
    "envelope | data_base64 is not accepted: data must be JSON (datacontenttype application/json)",
  );
  t.is(failure({ ...valid, "": "x" }), 'envelope | extension name "" is invalid: it is empty');
  t.is(failure({ ...valid, abcdefghijklmnopqrst: "x", partitionkey2: "p" }), "parsed", "20 characters, digits");
});

test("an unknown type is told apart, including names that exist on every object", (t) => {
  t.is(failure({ ...valid, type: "order.exploded" }), 'unknown-type | unknown event type "order.exploded"');
  t.is(failure({ ...valid, type: "toString" }), 'unknown-type | unknown event type "toString"');
  t.is(failure({ ...valid, type: "__proto__" }), 'unknown-type | unknown event type "__proto__"');
  t.deepEqual(catalog.types, ["order.placed", "order.cancelled"]);
});

const fields = { id: "e2", source: "/shop", subject: "order-2", time: "2026-11-23T08:00:00.000Z" };

test("building an event fills the envelope and applies the schema", (t) => {
  const event = catalog.build("order.placed", {
    ...fields,
    data: { quantity: 1 },
    sagaid: "s9",
    causationid: undefined,
  });
  t.deepEqual(event, {
    specversion: "1.0",
    type: "order.placed",
    datacontenttype: "application/json",
    ...fields,
    sagaid: "s9",
    data: { quantity: 1, lines: [] },
  });
  t.false("causationid" in event, "an undefined optional field is left out");
});

test("building refuses bad data and a bad envelope with a typed error", (t) => {
  const badData = t.throws(() => catalog.build("order.placed", { ...fields, data: { quantity: -1 } }), {
    instanceOf: EventSchemaError,
  });
  t.is(
    badData.message,
    "cannot emit order.placed: order.placed: data.quantity: Too small: expected number to be >0 (got -1)",
  );
  t.is(badData.reason, "schema");
  t.is(badData.eventType, "order.placed");
  const badTime = t.throws(
    () => catalog.build("order.cancelled", { ...fields, time: "yesterday", data: { why: "x" } }),
    {
      instanceOf: EventSchemaError,
    },
  );
  t.is(badTime.reason, "envelope");
  t.is(badTime.message, 'cannot emit order.cancelled: time: Invalid ISO datetime (got "yesterday")');
  const badType = t.throws(() => catalog.build("order.nope" as "order.placed", { ...fields, data: { quantity: 1 } }), {
    instanceOf: EventSchemaError,
  });
  t.is(badType.reason, "unknown-type");
});

test("the idempotency key cannot be forged by moving characters between source and id", (t) => {
  t.not(idempotencyKey({ source: "a b", id: "c" }), idempotencyKey({ source: "a", id: "b c" }));
  t.not(idempotencyKey({ source: 'a","b', id: "c" }), idempotencyKey({ source: "a", id: 'b","c' }));
  t.is(idempotencyKey({ source: "/s", id: "1" }), '["/s","1"]');
});

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("derived ids are pinned: a re-run, or the next release, emits the same id", (t) => {
  // Computed independently (Python: sha256 of the JSON array, first 16 bytes, version 8 and variant bits set).
  t.is(deriveEventId('["/shop","e1"]', "orders.confirm", 0), "b297a6f5-e649-8476-bc72-96bdfb363a77");
  t.is(rootEventId("sim-1"), "bf7fd71d-424f-8d55-a470-ea23ea07510d");
  t.is(deriveEventId("k", "step", 3), deriveEventId("k", "step", 3));
});

test("derived ids differ per input, step and position, and from root ids", (t) => {
  const ids = [
    deriveEventId("k", "step", 0),
    deriveEventId("k", "step", 1),
    deriveEventId("k", "other", 0),
    deriveEventId("k2", "step", 0),
    deriveEventId('k","step', "x", 0),
    deriveEventId("k", 'step","x', 0),
    rootEventId("k"),
    rootEventId('["emit","k","step",0]'),
  ];
  t.is(new Set(ids).size, ids.length);
});

test("derived ids carry version 8 and the RFC 9562 variant in the right bits", (t) => {
  const ids = Array.from({ length: 256 }, (_, i) => deriveEventId(`key-${i}`, "step", i % 4));
  for (const id of ids) {
    t.regex(id, UUID_V8);
    const hex = id.replaceAll("-", "");
    t.is(Number.parseInt(hex.slice(12, 13), 16), 8, "version nibble (byte 6, high half)");
    t.is(Number.parseInt(hex.slice(16, 18), 16) >> 6, 0b10, "variant (byte 8, two high bits)");
  }
  // The other bits come from the hash: across many ids every variant nibble 8..b shows up.
  t.deepEqual([...new Set(ids.map((id) => id[19]))].sort(), ["8", "9", "a", "b"]);
});

test("a position must be a non-negative integer", (t) => {
  for (const position of [-1, 1.5, Number.NaN])
    t.throws(() => deriveEventId("k", "s", position), { instanceOf: RangeError });
  t.throws(() => deriveEventId("k", "", 0), { instanceOf: RangeError });
});
