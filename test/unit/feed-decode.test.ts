import test from "ava";
import { DEFAULT_MAX_VALUE_BYTES, decodeFeedParams, decodeValue } from "../../lib/feed/decode.ts";

const event = {
  specversion: "1.0",
  id: "1",
  type: "t",
  source: "/s",
  subject: "x",
  time: "2026-01-01T00:00:00Z",
  data: { text: "héllo" },
};
const text = JSON.stringify(event);
const message = (value: unknown, extra = {}) => ({ topic: "t", partition: 0, offset: 5, key: "k", value, ...extra });
const refused = (outcome: ReturnType<typeof decodeValue>) =>
  outcome.ok ? "accepted" : `${outcome.reason} | ${outcome.message}`;
const base64Lines = (value: string) =>
  Buffer.from(value)
    .toString("base64")
    .replace(/(.{76})/g, "$1\n");

// --- the feed's value encodings -------------------------------------------------------------------------------

test("default trigger: the value is JSON text", (t) => {
  t.deepEqual(decodeValue(text), { ok: true, value: event });
  t.deepEqual(decodeValue(text, { valueEncoding: "string" }), { ok: true, value: event });
});

test("isJSONData=true: the value arrives parsed and is taken as it is", (t) => {
  t.deepEqual(decodeValue(event), { ok: true, value: event });
  t.deepEqual(decodeValue(event, { valueEncoding: "json" }), { ok: true, value: event });
});

test("isJSONData=true with invalid JSON: the raw text arrives wrapped in literal quotes", (t) => {
  for (const valueEncoding of ["auto", "json"] as const) {
    // `{bad` happens to form a JSON string once wrapped; `{"a":` does not (nothing is escaped).
    // The parser's own words vary with the Node version; what is ours is checked exactly.
    t.regex(
      refused(decodeValue('"{bad"', { valueEncoding })),
      /^invalid-json \| value is not valid JSON \(.*position 1.*\); the feed delivered it quote-wrapped \(isJSONData=true\)$/,
    );
    t.regex(
      refused(decodeValue('"{"a":"', { valueEncoding })),
      /^invalid-json \| value is not valid JSON \(.*quote-wrapped/,
    );
    t.regex(refused(decodeValue('""', { valueEncoding })), /^invalid-json \| value is not valid JSON \(Unexpected end/);
    // NaN is refused by the feed's parser (platform facts) and by ours.
    t.regex(refused(decodeValue('"{"a":NaN}"', { valueEncoding })), /^invalid-json .*quote-wrapped/);
    // 1e400 is refused by the feed (it would be Infinity) although JavaScript reads it.
    t.is(
      refused(decodeValue('"{"a":1e400}"', { valueEncoding })),
      "invalid-json | value is not valid JSON (the feed could not parse it (for example a number beyond double range)); " +
        "the feed delivered it quote-wrapped (isJSONData=true)",
    );
  }
});

test("isJSONData=true: a valid JSON value that is not an object is refused as such", (t) => {
  // The Kafka value `"hello"` arrives as the string hello; `42` as a number; `[1]` as an array.
  t.is(
    refused(decodeValue("hello", { valueEncoding: "json" })),
    "not-an-object | value is a JSON string, not a JSON object",
  );
  t.is(refused(decodeValue(42, { valueEncoding: "json" })), "not-an-object | value is a number, not a JSON object");
  t.is(refused(decodeValue(true)), "not-an-object | value is a boolean, not a JSON object");
  t.is(refused(decodeValue([event])), "not-an-object | value is an array, not a JSON object");
});

test("default trigger: invalid JSON text and non-objects are refused with the parser's reason", (t) => {
  t.regex(
    refused(decodeValue("{bad", { valueEncoding: "string" })),
    /^invalid-json \| value is not valid JSON \(.*position 1.*\)$/,
  );
  t.is(refused(decodeValue("{bad")), refused(decodeValue("{bad", { valueEncoding: "string" })));
  t.is(refused(decodeValue("42")), "not-an-object | value is a number, not a JSON object");
  t.is(refused(decodeValue("[1]")), "not-an-object | value is an array, not a JSON object");
  t.is(refused(decodeValue("null")), "not-an-object | value is null, not a JSON object");
  // With no flag a quoted text is a JSON string, not the feed's wrapping.
  t.is(
    refused(decodeValue('"{bad"', { valueEncoding: "string" })),
    "not-an-object | value is a JSON string, not a JSON object",
  );
});

test("JSON encoded twice is named as such, not taken as an event", (t) => {
  const twice = JSON.stringify(text);
  for (const valueEncoding of ["auto", "string"] as const)
    t.is(
      refused(decodeValue(twice, { valueEncoding })),
      "not-an-object | value is a JSON string, not a JSON object (JSON encoded twice?)",
    );
});

test("a step configured for text refuses parsed values: the trigger's flags disagree with it", (t) => {
  t.is(
    refused(decodeValue(event, { valueEncoding: "string" })),
    "bad-encoding | value is an object, not text (the step is configured for no flag)",
  );
});

test("isBinaryValue=true: base64 in the feed's 76-character lines, or in one line, decodes to the event", (t) => {
  const big = JSON.stringify({ ...event, data: { pad: "x".repeat(200), text: "héllo" } });
  const lines = base64Lines(big);
  t.true(lines.includes("\n"), "the fixture really has line breaks");
  t.deepEqual(decodeValue(lines, { valueEncoding: "base64" }), { ok: true, value: JSON.parse(big) });
  t.deepEqual(decodeValue(Buffer.from(text).toString("base64"), { valueEncoding: "base64" }), {
    ok: true,
    value: event,
  });
});

test("isBinaryValue=true: what is not base64, not UTF-8 or not JSON is refused with its reason", (t) => {
  const base64 = { valueEncoding: "base64" } as const;
  t.is(
    refused(decodeValue("{not base64}", base64)),
    "bad-encoding | value is not base64 (the step is configured for isBinaryValue=true)",
  );
  t.is(
    refused(decodeValue("abc", base64)),
    "bad-encoding | value is not base64 (the step is configured for isBinaryValue=true)",
  );
  t.is(
    refused(decodeValue(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString("base64"), base64)),
    "bad-encoding | value is base64 of bytes that are not UTF-8 text",
  );
  t.regex(
    refused(decodeValue(Buffer.from("{bad").toString("base64"), base64)),
    /^invalid-json \| value is not valid JSON \(/,
  );
  t.is(
    refused(decodeValue(Buffer.from("[1]").toString("base64"), base64)),
    "not-an-object | value is an array, not a JSON object",
  );
  t.is(
    refused(decodeValue(event, base64)),
    "bad-encoding | value is an object, not text (the step is configured for isBinaryValue=true)",
  );
});

test("base64 reaching a step not configured for it is refused with a hint", (t) => {
  t.regex(
    refused(decodeValue(base64Lines(text))),
    /^invalid-json .*it looks like base64: is the trigger isBinaryValue=true\?$/,
  );
});

test("a null value (tombstone) is refused as such", (t) => {
  t.is(refused(decodeValue(null)), "null-value | value is null (a tombstone)");
  t.is(refused(decodeValue(undefined)), "null-value | value is null (a tombstone)");
});

test("oversized values are refused by their serialized UTF-8 size, the limit itself allowed", (t) => {
  const limit = { maxValueBytes: 1000 };
  t.is(refused(decodeValue("é".repeat(600), limit)), "oversized | value is 1200 bytes, more than the 1000 allowed");
  const padded = (bytes: number) => {
    const bare = JSON.stringify({ ...event, data: { pad: "" } });
    return JSON.stringify({ ...event, data: { pad: "x".repeat(bytes - bare.length) } });
  };
  t.is(padded(1000).length, 1000);
  t.true(decodeValue(padded(1000), limit).ok);
  t.is(refused(decodeValue(padded(1001), limit)), "oversized | value is 1001 bytes, more than the 1000 allowed");
  t.is(
    refused(decodeValue(JSON.parse(padded(1001)), limit)),
    "oversized | value is 1001 bytes, more than the 1000 allowed",
  );
  t.is(DEFAULT_MAX_VALUE_BYTES, 512 * 1024);
  t.true(decodeValue(padded(DEFAULT_MAX_VALUE_BYTES)).ok);
  t.is(
    refused(decodeValue(padded(DEFAULT_MAX_VALUE_BYTES + 1))),
    "oversized | value is 524289 bytes, more than the 524288 allowed",
  );
});

// --- the trigger's parameters -----------------------------------------------------------------------------------

test("feed params give one record per message, in order, with its origin and its raw value", (t) => {
  const result = decodeFeedParams({
    messages: [message("{bad"), message(text, { key: null, offset: 6 }), message(null, { partition: 2, offset: "7" })],
  });
  t.deepEqual(result, {
    ok: true,
    records: [
      {
        origin: { topic: "t", partition: 0, offset: 5, key: "k" },
        rawValue: "{bad",
        outcome: decodeValue("{bad"),
      },
      {
        origin: { topic: "t", partition: 0, offset: 6, key: null },
        rawValue: text,
        outcome: { ok: true, value: event },
      },
      {
        origin: { topic: "t", partition: 2, offset: "7", key: "k" },
        rawValue: null,
        outcome: { ok: false, reason: "null-value", message: "value is null (a tombstone)" },
      },
    ],
  });
});

test("keys are kept as they arrived: null, text, or base64 (isBinaryKey=true); a missing key is null", (t) => {
  const binaryKey = Buffer.from([0, 159, 146, 150]).toString("base64");
  const noKey = { topic: "t", partition: 0, offset: 5, value: text };
  const result = decodeFeedParams({ messages: [message(text, { key: binaryKey }), noKey] });
  if (!result.ok) return t.fail(result.message);
  t.deepEqual(
    result.records.map((r) => ("direct" in r.origin ? "direct" : r.origin.key)),
    [binaryKey, null],
  );
});

test("the value encoding option reaches every message", (t) => {
  const result = decodeFeedParams(
    { messages: [message(Buffer.from(text).toString("base64"))] },
    { valueEncoding: "base64" },
  );
  t.deepEqual(result.ok ? result.records[0]?.outcome : undefined, { ok: true, value: event });
});

test("a single event passed directly is one direct record; bound and __ow_ parameters are left out", (t) => {
  const result = decodeFeedParams(
    { ...event, cloudant_url: "http://h", __ow_headers: {}, __ow_method: "post" },
    { ignoreKeys: new Set(["cloudant_url"]), valueEncoding: "base64" },
  );
  t.deepEqual(result, {
    ok: true,
    records: [{ origin: { direct: true }, rawValue: event, outcome: { ok: true, value: event } }],
  });
});

test("a direct event leaves out the parameters bound to the action, whose names cannot be CloudEvents attributes", (t) => {
  const result = decodeFeedParams({ ...event, workorder_deadline_ms: "60000", stock_default: "3" });
  if (!result.ok) return t.fail(result.message);
  t.deepEqual(result.records[0]?.outcome, { ok: true, value: event });
});

test("a direct event typed with `wsk -p specversion 1.0` (the number 1) is read as 1.0", (t) => {
  const result = decodeFeedParams({ ...event, specversion: 1 });
  if (!result.ok) return t.fail(result.message);
  t.deepEqual(result.records[0]?.outcome, { ok: true, value: event });
  t.deepEqual(result.records[0]?.rawValue, { ...event, specversion: 1 }, "the raw value is what arrived");
});

test("a direct event is size-checked like a message", (t) => {
  const result = decodeFeedParams({ ...event, data: "x".repeat(2000) }, { maxValueBytes: 1000 });
  t.is(result.ok ? result.records[0]?.outcome.ok : "malformed", false);
});

test("params with messages are a feed fire even if they also carry specversion", (t) => {
  const result = decodeFeedParams({ specversion: "1.0", messages: [message(text)] });
  t.deepEqual(result.ok ? result.records[0]?.origin : undefined, { topic: "t", partition: 0, offset: 5, key: "k" });
});

test("malformed params get one result naming the problem, never a throw", (t) => {
  const problem = (params: unknown) => {
    const result = decodeFeedParams(params);
    return result.ok ? "ok" : `${result.reason} | ${result.message}`;
  };
  const expectations: [unknown, string][] = [
    [null, "parameters are null, not an object"],
    [[], "parameters are an array, not an object"],
    ["x", "parameters are a JSON string, not an object"],
    [{ hello: "world" }, "expected the Kafka feed's {messages:[...]} or a single CloudEvent (with specversion)"],
    [
      { __ow_headers: {}, messages_: [] },
      "expected the Kafka feed's {messages:[...]} or a single CloudEvent (with specversion)",
    ],
    [{ messages: "x" }, "messages must be an array, got a JSON string"],
    [{ messages: { 0: {} } }, "messages must be an array, got an object"],
    [{ messages: null }, "messages must be an array, got null"],
    [{ messages: [] }, "messages is empty (the feed never fires an empty batch)"],
    [{ messages: [null] }, "malformed feed payload: messages[0] is not an object"],
    [
      { messages: [message(text, { topic: undefined })] },
      "malformed feed payload: messages[0].topic is missing or not a string",
    ],
    [
      { messages: [message(text), message(text, { partition: -1 })] },
      "malformed feed payload: messages[1].partition is missing or not a non-negative integer",
    ],
    [
      { messages: [message(text, { partition: 1.5 })] },
      "malformed feed payload: messages[0].partition is missing or not a non-negative integer",
    ],
    [
      { messages: [{ topic: "t", partition: 0, value: "" }] },
      "malformed feed payload: messages[0].offset is missing or not an integer",
    ],
    [
      { messages: [message(text, { offset: "abc" })] },
      "malformed feed payload: messages[0].offset is missing or not an integer",
    ],
    [
      { messages: [{ topic: "t", partition: 0, offset: 1, key: null }] },
      "malformed feed payload: messages[0].value is missing",
    ],
    [{ messages: [message(text, { key: 7 })] }, "malformed feed payload: messages[0].key is not a string or null"],
    [
      { messages: [null, 1, "x", [], message(text)] },
      "malformed feed payload: messages[0] is not an object; messages[1] is not an object; messages[2] is not an object; and 1 more",
    ],
  ];
  for (const [params, expected] of expectations)
    t.is(problem(params), `malformed-params | ${expected}`, JSON.stringify(params));
});
