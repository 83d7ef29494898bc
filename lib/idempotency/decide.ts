// What to do with an event whose key may already have an idempotency record, in the manner of AWS Lambda
// Powertools' idempotency, but with every time in epoch MILLISECONDS from one injected clock (Powertools shipped a
// seconds/milliseconds mix-up in its in-progress expiry, and its own test repeated the mistake).
import { createHash } from "node:crypto";

export type Clock = () => number;

export interface IdempotencyRecord {
  status: "INPROGRESS" | "COMPLETED";
  payloadHash: string;
  /** While INPROGRESS: the holder's activation deadline (epoch ms). */
  inProgressExpiresAt: number;
  /** When the record may be purged (epoch ms): end of the retention window. */
  expiresAt: number;
  result?: unknown;
}

export type Verdict =
  | { kind: "claim" }
  | { kind: "takeover" }
  | { kind: "in-progress"; retryAfterMs: number }
  | { kind: "duplicate"; result: unknown }
  | { kind: "payload-mismatch" };

/** JSON with object keys sorted at every depth, so key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function hashPayload(payload: unknown): string {
  return createHash("sha256").update(canonicalJson(payload)).digest("hex");
}

export function isExpired(record: Pick<IdempotencyRecord, "expiresAt">, now: number): boolean {
  return record.expiresAt <= now;
}

export function decide(
  existing: IdempotencyRecord | undefined,
  request: { now: number; payloadHash: string; deadline: number },
): Verdict {
  if (!existing || isExpired(existing, request.now)) return { kind: "claim" };
  if (existing.payloadHash !== request.payloadHash) return { kind: "payload-mismatch" };
  if (existing.status === "COMPLETED") return { kind: "duplicate", result: existing.result };
  // INPROGRESS: live until its holder's deadline; after it the holder is dead (OpenWhisk killed it).
  if (existing.inProgressExpiresAt >= request.now) {
    return { kind: "in-progress", retryAfterMs: existing.inProgressExpiresAt - request.now + 1 };
  }
  return { kind: "takeover" };
}

/** Seven days: the longest of the duplicate windows NServiceBus and MassTransit ship with. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
