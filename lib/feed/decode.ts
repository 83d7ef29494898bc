// What OpenWhisk's Kafka feed fires, turned into records a step can check one by one. The feed's quirks
// (platform-facts section 1): values arrive as text, as parsed JSON (isJSONData), as base64 (isBinaryValue), or as
// invalid JSON wrapped in literal double quotes (isJSONData with a value that is not JSON). A single CloudEvent
// passed as the parameters (`wsk action invoke step -P event.json`) is one direct record.

export type ValueEncoding = "auto" | "base64";

export interface DecodeOptions {
  /** Parameters bound at deploy time (configuration), never part of an event. */
  ignoreKeys?: ReadonlySet<string>;
  /** A value larger than this, serialized, is refused unread. */
  maxValueBytes?: number;
  /** "base64" when the trigger was created with isBinaryValue=true (the step cannot see the trigger's flags). */
  valueEncoding?: ValueEncoding;
}

export const DEFAULT_MAX_VALUE_BYTES = 512 * 1024;

export type FeedOrigin =
  | { topic: string; partition: number; offset: number | string; key: string | null }
  | { direct: true };

export type DecodeFailure = "invalid-json" | "null-value" | "oversized" | "not-an-object" | "bad-encoding";

export interface DecodedRecord {
  origin: FeedOrigin;
  /** Exactly what arrived, for dead-lettering. */
  rawValue: unknown;
  outcome: { ok: true; value: unknown } | { ok: false; reason: DecodeFailure; message: string };
}

export type DecodeResult = { ok: true; records: DecodedRecord[] } | { ok: false; message: string };

function sizeOf(value: unknown): number {
  return typeof value === "string" ? Buffer.byteLength(value) : Buffer.byteLength(JSON.stringify(value) ?? "");
}

function parseText(text: string): DecodedRecord["outcome"] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: "invalid-json", message: `value is not valid JSON (${(err as Error).message})` };
  }
  if (typeof parsed === "string" && text.startsWith('"')) {
    // isJSONData with invalid JSON: the feed wraps the raw text in quotes. Report the text that was sent.
    const inner = parseText(parsed);
    if (!inner.ok) return { ...inner, message: `${inner.message}; the feed delivered it quote-wrapped` };
    return inner;
  }
  return objectOnly(parsed);
}

function objectOnly(value: unknown): DecodedRecord["outcome"] {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return { ok: true, value };
  return {
    ok: false,
    reason: "not-an-object",
    message: `value is ${Array.isArray(value) ? "an array" : typeof value}, not a JSON object`,
  };
}

export function decodeValue(value: unknown, options: DecodeOptions = {}): DecodedRecord["outcome"] {
  if (value === null || value === undefined)
    return { ok: false, reason: "null-value", message: "value is null (a tombstone)" };
  const limit = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const size = sizeOf(value);
  if (size > limit)
    return { ok: false, reason: "oversized", message: `value is ${size} bytes, more than the ${limit} allowed` };
  if (typeof value !== "string") return objectOnly(value);
  if (options.valueEncoding === "base64") {
    const clean = value.replace(/\s+/g, ""); // the feed's base64 comes in 76-character lines
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
      return {
        ok: false,
        reason: "bad-encoding",
        message: "value is not base64 (the step expects isBinaryValue=true)",
      };
    }
    return parseText(Buffer.from(clean, "base64").toString("utf8"));
  }
  return parseText(value);
}

function withoutBoundParams(params: Record<string, unknown>, ignore: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !key.startsWith("__ow_") && !ignore.has(key)));
}

function problemWith(message: unknown, index: number): string | undefined {
  if (typeof message !== "object" || message === null) return `messages[${index}] is not an object`;
  const m = message as Record<string, unknown>;
  if (typeof m.topic !== "string") return `messages[${index}].topic is missing`;
  if (typeof m.partition !== "number") return `messages[${index}].partition is missing`;
  if (typeof m.offset !== "number" && typeof m.offset !== "string") return `messages[${index}].offset is missing`;
  if (!("value" in m)) return `messages[${index}].value is missing`;
  if (m.key !== null && m.key !== undefined && typeof m.key !== "string")
    return `messages[${index}].key is not a string`;
  return undefined;
}

/** The records of one activation, or one message naming what is wrong with the parameters as a whole. */
export function decodeFeedParams(params: Record<string, unknown>, options: DecodeOptions = {}): DecodeResult {
  const own = withoutBoundParams(params, options.ignoreKeys ?? new Set());
  if (!("messages" in own)) {
    if ("specversion" in own) {
      return { ok: true, records: [{ origin: { direct: true }, rawValue: own, outcome: decodeValue(own, options) }] };
    }
    return {
      ok: false,
      message: "expected the Kafka feed's {messages:[...]} or a single CloudEvent (with specversion)",
    };
  }
  const messages = own.messages;
  if (!Array.isArray(messages)) return { ok: false, message: `messages must be an array, got ${typeof messages}` };
  if (messages.length === 0) return { ok: false, message: "messages is empty (the feed never fires an empty batch)" };
  const problems = messages.map(problemWith).filter((problem) => problem !== undefined);
  if (problems.length > 0) return { ok: false, message: `malformed feed payload: ${problems.slice(0, 3).join("; ")}` };
  return {
    ok: true,
    records: messages.map((message: Record<string, unknown>) => ({
      origin: {
        topic: message.topic as string,
        partition: message.partition as number,
        offset: message.offset as number | string,
        key: (message.key as string | null | undefined) ?? null,
      },
      rawValue: message.value,
      outcome: decodeValue(message.value, options),
    })),
  };
}
