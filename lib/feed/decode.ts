// What OpenWhisk's Kafka feed fires, turned into records a step can check one by one. The feed's quirks
// (platform-facts section 1, apache/openwhisk-package-kafka provider/consumer.py): a value arrives as text (default),
// as parsed JSON (isJSONData), as base64 in 76-character lines (isBinaryValue, Python 2's "base64" codec), or, with
// isJSONData and a value that is not JSON, as the raw text wrapped in literal double quotes (nothing escaped).
// A single CloudEvent passed as the parameters (`wsk action invoke step -P event.json`) is one direct record.
import { isRecord, messageOf } from "../narrow.ts";

/**
 * How the step reads a record's value; it cannot see the trigger's flags, so it is told.
 * - auto: an object is taken as parsed JSON; a string is parsed as JSON text, quote-wrapping recognised.
 * - json: the trigger has isJSONData=true; a string is a quote-wrapped invalid text or a JSON string value.
 * - string: the trigger has neither flag; every value is JSON text.
 * - base64: the trigger has isBinaryValue=true; every value is base64 of UTF-8 JSON text.
 */
export type ValueEncoding = "auto" | "json" | "string" | "base64";

export interface DecodeOptions {
  /** Parameters bound at deploy time (configuration), never part of an event. `__ow_*` are always left out. */
  ignoreKeys?: ReadonlySet<string>;
  /** A value larger than this, serialized as it arrived, is refused unread. */
  maxValueBytes?: number;
  valueEncoding?: ValueEncoding;
}

/** Half the feed's own cap on a fire (PAYLOAD_LIMIT, about 900,000 bytes), so one event never fills a batch. */
export const DEFAULT_MAX_VALUE_BYTES = 512 * 1024;

/** `key` as it arrived: null, UTF-8 text, or base64 when the trigger has isBinaryKey=true. */
export type FeedOrigin =
  | { topic: string; partition: number; offset: number | string; key: string | null }
  | { direct: true };

export type DecodeFailure = "invalid-json" | "null-value" | "oversized" | "not-an-object" | "bad-encoding";

export type DecodeOutcome = { ok: true; value: unknown } | { ok: false; reason: DecodeFailure; message: string };

export interface DecodedRecord {
  origin: FeedOrigin;
  /** Exactly what arrived, for dead-lettering. */
  rawValue: unknown;
  outcome: DecodeOutcome;
}

/** Parameters that are neither a feed fire nor an event: the whole activation fails with this, never a throw. */
export type DecodeResult =
  | { ok: true; records: DecodedRecord[] }
  | { ok: false; reason: "malformed-params"; message: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const fail = (reason: DecodeFailure, message: string): DecodeOutcome => ({ ok: false, reason, message });

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return "a JSON string";
  return typeof value === "object" || typeof value === "undefined" ? `an ${typeof value}` : `a ${typeof value}`;
}

function objectOnly(value: unknown): DecodeOutcome {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return { ok: true, value };
  return fail("not-an-object", `value is ${describe(value)}, not a JSON object`);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  }
}

const isQuoteWrapped = (text: string) => text.length >= 2 && text.startsWith('"') && text.endsWith('"');

/** The feed wrapped a text it could not parse in quotes: report why the original text is not JSON. */
function quoteWrapped(text: string): DecodeOutcome {
  const inner = parseJson(text.slice(1, -1));
  const why = inner.ok ? "the feed could not parse it (for example a number beyond double range)" : inner.error;
  return fail(
    "invalid-json",
    `value is not valid JSON (${why}); the feed delivered it quote-wrapped (isJSONData=true)`,
  );
}

function looksLikeBase64(text: string): boolean {
  const clean = text.replace(/\r?\n/g, "");
  return clean.length >= 8 && clean.length % 4 === 0 && BASE64.test(clean);
}

/** JSON text → object. `recogniseWrapping`: a quoted text may be the feed's wrapping of invalid JSON. */
function fromText(text: string, recogniseWrapping: boolean): DecodeOutcome {
  const parsed = parseJson(text);
  if (parsed.ok && typeof parsed.value === "string") {
    const inner = parseJson(parsed.value);
    // The feed wraps raw text without escaping it; a JSON string whose content is JSON was encoded twice instead.
    if (recogniseWrapping && isQuoteWrapped(text) && !inner.ok) return quoteWrapped(text);
    return fail(
      "not-an-object",
      `value is a JSON string, not a JSON object${inner.ok ? " (JSON encoded twice?)" : ""}`,
    );
  }
  if (!parsed.ok) {
    if (recogniseWrapping && isQuoteWrapped(text)) return quoteWrapped(text);
    const hint = looksLikeBase64(text) ? "; it looks like base64: is the trigger isBinaryValue=true?" : "";
    return fail("invalid-json", `value is not valid JSON (${parsed.error})${hint}`);
  }
  return objectOnly(parsed.value);
}

function fromBase64(text: string): DecodeOutcome {
  const clean = text.replace(/\r?\n/g, ""); // the feed's base64 comes in 76-character lines
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) {
    return fail("bad-encoding", "value is not base64 (the step is configured for isBinaryValue=true)");
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(clean, "base64"));
  } catch {
    return fail("bad-encoding", "value is base64 of bytes that are not UTF-8 text");
  }
  return fromText(decoded, false);
}

function serializedBytes(value: unknown): number {
  return Buffer.byteLength(typeof value === "string" ? value : (JSON.stringify(value) ?? ""));
}

/** One feed record's value → a JSON object, or why not. */
export function decodeValue(value: unknown, options: DecodeOptions = {}): DecodeOutcome {
  if (value === null || value === undefined) return fail("null-value", "value is null (a tombstone)");
  const limit = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const size = serializedBytes(value);
  if (size > limit) return fail("oversized", `value is ${size} bytes, more than the ${limit} allowed`);
  const encoding = options.valueEncoding ?? "auto";
  if (typeof value !== "string") {
    if (encoding === "string" || encoding === "base64") {
      const flag = encoding === "string" ? "no flag" : "isBinaryValue=true";
      return fail("bad-encoding", `value is ${describe(value)}, not text (the step is configured for ${flag})`);
    }
    return objectOnly(value);
  }
  switch (encoding) {
    case "base64":
      return fromBase64(value);
    case "string":
      return fromText(value, false);
    case "json":
      // isJSONData=true: JSON arrives parsed, so a string is either the feed's wrapping or a JSON string value.
      return isQuoteWrapped(value) ? quoteWrapped(value) : objectOnly(value);
    default:
      return fromText(value, true);
  }
}

/**
 * `wsk action invoke -p specversion 1.0` sends the number 1 (wsk parses -p values as JSON): read it as "1.0" so the
 * hand-typed form works. Everything else is left for the catalog to check.
 */
function directEvent(params: Record<string, unknown>): Record<string, unknown> {
  return params.specversion === 1 ? { ...params, specversion: "1.0" } : params;
}

/**
 * OpenWhisk merges the package's and the action's bound parameters into every invocation. CloudEvents attribute
 * names are [a-z0-9] only, so a parameter with any other character (a_deadline_ms) is bound, not the event's.
 */
function eventAttributes(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => /^[a-z0-9]+$/.test(key)));
}

function withoutBoundParams(params: Record<string, unknown>, ignore: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !key.startsWith("__ow_") && !ignore.has(key)));
}

/** One message of the feed's batch, checked. */
interface FeedMessage {
  topic: string;
  partition: number;
  offset: number | string;
  key: string | null;
  value: unknown;
}

function checkMessage(message: unknown, index: number): FeedMessage | string {
  const at = `messages[${index}]`;
  if (!isRecord(message)) return `${at} is not an object`;
  const { topic, partition, offset, key } = message;
  if (typeof topic !== "string" || topic === "") return `${at}.topic is missing or not a string`;
  if (typeof partition !== "number" || !Number.isInteger(partition) || partition < 0)
    return `${at}.partition is missing or not a non-negative integer`;
  const offsetOk =
    (typeof offset === "number" && Number.isInteger(offset)) || (typeof offset === "string" && /^\d+$/.test(offset));
  if (!offsetOk) return `${at}.offset is missing or not an integer`;
  if (!("value" in message)) return `${at}.value is missing`;
  if (key !== null && key !== undefined && typeof key !== "string") return `${at}.key is not a string or null`;
  return { topic, partition, offset, key: key ?? null, value: message.value };
}

const malformed = (message: string): DecodeResult => ({ ok: false, reason: "malformed-params", message });

/** The records of one activation, or one message naming what is wrong with the parameters as a whole. */
export function decodeFeedParams(params: unknown, options: DecodeOptions = {}): DecodeResult {
  if (!isRecord(params)) return malformed(`parameters are ${describe(params)}, not an object`);
  const own = withoutBoundParams(params, options.ignoreKeys ?? new Set());
  if (!("messages" in own)) {
    if (!("specversion" in own)) {
      return malformed("expected the Kafka feed's {messages:[...]} or a single CloudEvent (with specversion)");
    }
    // A direct event arrived as parameters, already parsed: only size and shape apply, not the feed's encodings.
    const attributes = eventAttributes(own);
    const outcome = decodeValue(directEvent(attributes), { ...options, valueEncoding: "auto" });
    return { ok: true, records: [{ origin: { direct: true }, rawValue: attributes, outcome }] };
  }
  const messages = own.messages;
  if (!Array.isArray(messages)) return malformed(`messages must be an array, got ${describe(messages)}`);
  if (messages.length === 0) return malformed("messages is empty (the feed never fires an empty batch)");
  const checked = messages.map(checkMessage);
  const problems = checked.filter((outcome) => typeof outcome === "string");
  if (problems.length > 0) {
    const more = problems.length > 3 ? `; and ${problems.length - 3} more` : "";
    return malformed(`malformed feed payload: ${problems.slice(0, 3).join("; ")}${more}`);
  }
  return {
    ok: true,
    records: checked
      .flatMap((message) => (typeof message === "string" ? [] : [message]))
      .map(({ value, ...origin }) => ({
        origin,
        rawValue: value,
        outcome: decodeValue(value, options),
      })),
  };
}
