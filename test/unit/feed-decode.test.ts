import test from "ava";
import { decodeFeedParams, decodeValue } from "../../lib/feed/decode.ts";

const event = {
  specversion: "1.0",
  id: "1",
  type: "t",
  source: "/s",
  subject: "x",
  time: "2026-01-01T00:00:00Z",
  data: {},
};
const message = (value: unknown, extra = {}) => ({ topic: "t", partition: 0, offset: 5, key: "k", value, ...extra });

test("a string value (isJSONData=false) is parsed as JSON", (t) => {
  t.deepEqual(decodeValue(JSON.stringify(event)), { ok: true, value: event });
});

test("a parsed value (isJSONData=true) is taken as it is", (t) => {
  t.deepEqual(decodeValue(event), { ok: true, value: event });
});

test("invalid JSON is refused, also when the feed delivered it wrapped in quotes", (t) => {
  const plain = decodeValue("{bad");
  t.is(plain.ok ? undefined : plain.reason, "invalid-json");
  const wrapped = decodeValue('"{bad"');
  t.is(wrapped.ok ? undefined : wrapped.reason, "invalid-json");
  t.regex(wrapped.ok ? "" : wrapped.message, /quote-wrapped/);
  // The wrapping is literal: a raw text with quotes inside does not even make a JSON string.
  const wrappedWithQuotes = decodeValue('"{"a":"');
  t.is(wrappedWithQuotes.ok ? undefined : wrappedWithQuotes.reason, "invalid-json");
});

test("base64 values (isBinaryValue=true), in the feed's 76-character lines, decode when the step says so", (t) => {
  const encoded = Buffer.from(JSON.stringify({ ...event, data: { pad: "x".repeat(100) } })).toString("base64");
  const lines = encoded.replace(/(.{76})/g, "$1\n");
  const decoded = decodeValue(lines, { valueEncoding: "base64" });
  t.true(decoded.ok);
  const notBase64 = decodeValue("{not base64}", { valueEncoding: "base64" });
  t.is(notBase64.ok ? undefined : notBase64.reason, "bad-encoding");
});

test("null, non-objects and oversized values are refused with their reason", (t) => {
  t.is((decodeValue(null) as { reason: string }).reason, "null-value");
  t.is((decodeValue("42") as { reason: string }).reason, "not-an-object");
  t.is((decodeValue([1]) as { reason: string }).reason, "not-an-object");
  const big = decodeValue("x".repeat(2000), { maxValueBytes: 1000 });
  t.deepEqual(big, { ok: false, reason: "oversized", message: "value is 2000 bytes, more than the 1000 allowed" });
});

test("feed params give one record per message with its origin and raw value", (t) => {
  const result = decodeFeedParams({ messages: [message("{bad"), message(JSON.stringify(event), { key: null })] });
  t.true(result.ok);
  if (!result.ok) return;
  t.deepEqual(result.records[0]?.origin, { topic: "t", partition: 0, offset: 5, key: "k" });
  t.is(result.records[0]?.rawValue, "{bad");
  t.false(result.records[0]?.outcome.ok);
  t.true(result.records[1]?.outcome.ok);
});

test("a single event passed directly is one direct record; bound and __ow_ parameters are left out", (t) => {
  const result = decodeFeedParams(
    { ...event, cloudant_url: "http://h", __ow_headers: {} },
    { ignoreKeys: new Set(["cloudant_url"]) },
  );
  t.deepEqual(result, {
    ok: true,
    records: [{ origin: { direct: true }, rawValue: event, outcome: { ok: true, value: event } }],
  });
});

test("malformed params get one message naming the problem", (t) => {
  t.deepEqual(decodeFeedParams({ messages: "x" }), { ok: false, message: "messages must be an array, got string" });
  t.deepEqual(decodeFeedParams({ messages: [] }), {
    ok: false,
    message: "messages is empty (the feed never fires an empty batch)",
  });
  t.deepEqual(decodeFeedParams({ messages: [{ topic: "t", partition: 0, value: "" }] }), {
    ok: false,
    message: "malformed feed payload: messages[0].offset is missing",
  });
  t.false(decodeFeedParams({ hello: "world" }).ok);
});
