// What to do with an event whose key may already have an idempotency record, in the manner of AWS Lambda
// Powertools' idempotency, but with every time in epoch MILLISECONDS from one injected clock (Powertools shipped a
// seconds/milliseconds mix-up in its in-progress expiry, and its own test repeated the mistake).

import { createHash } from "node:crypto";
import { SagaError } from "../errors.ts";
import { isRecord, propertyOf } from "../narrow.ts";

/** Epoch milliseconds. The only source of "now" for everything in this module's callers. */
export type Clock = () => number;

/** Seven days: the longest of the duplicate windows NServiceBus and MassTransit ship with. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface IdempotencyRecord {
  /** The event's idempotency key (or a digest of it). */
  _id: string;
  status: "INPROGRESS" | "COMPLETED";
  payloadHash: string;
  /** While INPROGRESS: the holder's activation deadline (epoch ms); from then on the holder is dead. */
  inProgressExpiresAt: number;
  /** When a COMPLETED record may be purged (epoch ms): the end of the retention window. */
  expiresAt: number;
  /** Replayed to duplicates. */
  result?: unknown;
}

export type Verdict =
  | { kind: "claim" }
  | { kind: "takeover" }
  | { kind: "in-progress"; retryAfterMs: number }
  | { kind: "duplicate"; result: unknown }
  | { kind: "payload-mismatch" };

export interface DecideRequest {
  /** Epoch ms, from the Clock. */
  now: number;
  payloadHash: string;
  /** Epoch ms: this activation's deadline, the lock it would write. Checked against `now` for a unit mix-up. */
  deadline: number;
}

/** A deadline further than this from now cannot be an OpenWhisk activation's (5 min at most): units are mixed. */
const PLAUSIBLE_DEADLINE_SPAN_MS = 24 * 60 * 60 * 1000;

export class InvalidDeadlineError extends SagaError {
  override name = "InvalidDeadlineError";
}

/** JSON with object keys sorted at every depth, so key order never changes a hash. Same value rules as JSON. */
export function canonicalJson(value: unknown): string {
  const json = propertyOf(value, "toJSON");
  if (typeof json === "function") return canonicalJson(json.call(value));
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  if (isRecord(value)) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol")
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** SHA-256 (hex) of the canonical JSON. */
export function hashPayload(payload: unknown): string {
  return createHash("sha256").update(canonicalJson(payload)).digest("hex");
}

/**
 * Whether the record may be forgotten (purged, or overwritten by a new claim): its retention window is over and,
 * while INPROGRESS, its holder's lock too.
 */
export function isExpired(
  record: Pick<IdempotencyRecord, "status" | "expiresAt" | "inProgressExpiresAt">,
  now: number,
): boolean {
  const lockOver = record.status !== "INPROGRESS" || record.inProgressExpiresAt <= now;
  return lockOver && record.expiresAt <= now;
}

export function decide(existing: IdempotencyRecord | undefined, request: DecideRequest): Verdict {
  const { now, payloadHash, deadline } = request;
  if (Math.abs(deadline - now) > PLAUSIBLE_DEADLINE_SPAN_MS) {
    throw new InvalidDeadlineError(`deadline ${deadline} is more than a day from now ${now}: are both epoch ms?`);
  }
  if (!existing) return { kind: "claim" };
  if (existing.status === "COMPLETED" && isExpired(existing, now)) return { kind: "claim" };
  // Same key, other payload: a producer reused an id. Applying it would silently drop one of the two.
  if (existing.payloadHash !== payloadHash) return { kind: "payload-mismatch" };
  if (existing.status === "COMPLETED") return { kind: "duplicate", result: existing.result };
  // INPROGRESS: live until its holder's deadline; from then on OpenWhisk has killed the holder.
  if (now < existing.inProgressExpiresAt)
    return { kind: "in-progress", retryAfterMs: existing.inProgressExpiresAt - now };
  return { kind: "takeover" };
}

/**
 * The activation's deadline in epoch ms from `__OW_DEADLINE` (the runtime sets it as text from the action's time
 * limit); without it (outside OpenWhisk), now + fallbackMs.
 */
export function deadlineFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
  fallbackMs: number,
): number {
  const raw = env.__OW_DEADLINE?.trim();
  const now = clock();
  if (raw === undefined || raw === "") return now + fallbackMs;
  if (!/^\d+$/.test(raw))
    throw new InvalidDeadlineError(`__OW_DEADLINE is ${JSON.stringify(raw)}, not epoch milliseconds`);
  const deadline = Number(raw);
  // Read as seconds it would be nearer to now than read as milliseconds: someone wrote seconds.
  if (Math.abs(deadline * 1000 - now) < Math.abs(deadline - now)) {
    throw new InvalidDeadlineError(`__OW_DEADLINE is ${raw}, which reads as epoch seconds; expected milliseconds`);
  }
  return deadline;
}
