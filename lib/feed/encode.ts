// A Kafka message as OpenWhisk's Kafka feed hands it to a trigger (apache/openwhisk-package-kafka): the value as
// text, JSON or base64 by the trigger's flags, the key likewise. The mirror of decode.ts, which the steps read with.
import { SagaError } from "../errors.ts";
import { pyBase64 } from "./python.ts";

export interface FeedMessage {
  value: unknown;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
}

export interface Flags {
  isJSONData: boolean;
  isBinaryKey: boolean;
  isBinaryValue: boolean;
}

/** The value as the provider passes it: text, parsed JSON (quote-wrapped text when invalid), or base64. */
export function encodeValue(value: Buffer | null, flags: Flags): unknown {
  if (value === null) {
    if (flags.isJSONData) throw new TombstoneCrash();
    return null;
  }
  const text = value.toString("utf8");
  if (flags.isJSONData) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (hasNonFinite(parsed)) throw new Error("Infinity");
      return parsed;
    } catch {
      return `"${text}"`;
    }
  }
  if (flags.isBinaryValue) return pyBase64(value);
  return text;
}

export function encodeKey(key: Buffer | null, flags: Flags): string | null {
  if (key === null) return null;
  return flags.isBinaryKey ? pyBase64(key) : key.toString("utf8");
}

function hasNonFinite(v: unknown): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (v && typeof v === "object") return Object.values(v).some(hasNonFinite);
  return false;
}

/** A null value with isJSONData=true: the real provider's consumer dies on it and, restarted, dies again. */
export class TombstoneCrash extends SagaError {
  override name = "TombstoneCrash";
  constructor() {
    super("a null message value cannot be parsed as JSON (the provider's consumer crashes here)");
  }
}
