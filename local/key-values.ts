// Parameters and annotations: OpenWhisk's lists of key/value pairs, read and merged as its controller does.
import { ApiError, Messages } from "./errors.ts";

export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export function keyValues(raw: unknown, field: string): KeyValue[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ApiError(400, Messages.malformed(`${field} must be an array of key/value pairs`));
  return raw.map((item) => {
    if (!item || typeof item !== "object" || typeof (item as KeyValue).key !== "string") {
      throw new ApiError(400, Messages.malformed(`${field} must be an array of key/value pairs`));
    }
    const kv = item as KeyValue;
    return kv.init === true ? { key: kv.key, value: kv.value, init: true } : { key: kv.key, value: kv.value };
  });
}

export function isTruthy(annotations: KeyValue[], key: string, whenMissing = false): boolean {
  const found = annotations.find((a) => a.key === key);
  if (!found) return whenMissing;
  // OpenWhisk's Parameters.isTruthy: booleans as they are, numbers unless 0, strings unless empty (so "false" is
  // truthy), null false, anything else true.
  const v = found.value;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  return v !== null && v !== undefined;
}

export function annotation(annotations: KeyValue[], key: string): unknown {
  return annotations.find((a) => a.key === key)?.value;
}

export function toObject(params: KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) out[p.key] = p.value;
  return out;
}

/** a < b: parameters of b replace those of a with the same key. */
export function mergeParams(a: KeyValue[], b: KeyValue[]): KeyValue[] {
  const keys = new Set(b.map((p) => p.key));
  return [...a.filter((p) => !keys.has(p.key)), ...b];
}

export function setAnnotation(annotations: KeyValue[], key: string, value: unknown): KeyValue[] {
  return [...annotations.filter((a) => a.key !== key), { key, value }];
}
