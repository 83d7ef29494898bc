// From decoded feed records to events the step applies, events it ignores, and records it dead-letters.
import { type CloudEvent, idempotencyKey } from "../events/envelope.ts";
import { type DecodedRecord, decodeValue } from "../feed/decode.ts";
import { asRetryEnvelope, type DeadLetterReason, type RecordOrigin } from "./letters.ts";
import type { StepCatalog } from "./spec.ts";

interface Base {
  index: number;
  origin: RecordOrigin;
  rawValue: unknown;
  /** Deliveries so far: 1, or the retry envelope's attempt. */
  attempt: number;
}

export type Classified =
  | (Base & { kind: "event"; event: CloudEvent<string, unknown>; key: string; entityId: string; notBefore: number })
  | (Base & { kind: "ignored"; event: CloudEvent<string, unknown> })
  | (Base & { kind: "dead-letter"; reason: DeadLetterReason; message: string });

export function originOf(record: DecodedRecord): RecordOrigin {
  return "direct" in record.origin
    ? { direct: true }
    : {
        topic: record.origin.topic,
        partition: record.origin.partition,
        offset: String(record.origin.offset),
        key: record.origin.key,
      };
}

/**
 * A retry record holds the original value as it arrived: text or parsed JSON, and (written by an earlier kit) possibly
 * a retry record itself. Unwraps to the event, keeping the highest attempt count and the latest notBefore. With
 * `step`, only envelopes that step wrote count: any other is left as the value, which then fails as a CloudEvent.
 */
export function unwrapRetries(value: unknown, step?: string): { value: unknown; attempt: number; notBefore: number } {
  let current = value;
  let attempt = 1;
  let notBefore = 0;
  for (let depth = 0; depth < 5; depth += 1) {
    const retry = asRetryEnvelope(current);
    if (!retry || (step !== undefined && retry.step !== step)) break;
    attempt = Math.max(attempt, retry.attempt);
    notBefore = Math.max(notBefore, retry.notBefore);
    const inner =
      typeof retry.value === "string" ? decodeValue(retry.value) : { ok: true as const, value: retry.value };
    current = inner.ok ? inner.value : retry.value;
  }
  return { value: current, attempt, notBefore };
}

/** Only a record of the step's own retry topic can carry its retry envelope: elsewhere an envelope is a forgery. */
function fromOwnRetryTopic(record: DecodedRecord, retryTopic: string): boolean {
  return !("direct" in record.origin) && record.origin.topic === retryTopic;
}

export function classify(
  records: DecodedRecord[],
  step: {
    name: string;
    topics: { retry: string };
    catalog: StepCatalog;
    handles: readonly string[];
    entityOf?: (event: CloudEvent<string, unknown>) => string;
    /** A message delivered more often than this is a dead letter before it is tried again (a crash loop). */
    maxAttempts: number;
  },
): Classified[] {
  return records.map((record, index): Classified => {
    const origin = originOf(record);
    const base = { index, origin, rawValue: record.rawValue, attempt: 1 };
    if (!record.outcome.ok) {
      return { ...base, kind: "dead-letter", reason: record.outcome.reason, message: record.outcome.message };
    }
    const { value, attempt, notBefore } = fromOwnRetryTopic(record, step.topics.retry)
      ? unwrapRetries(record.outcome.value, step.name)
      : { value: record.outcome.value, attempt: 1, notBefore: 0 };
    // A retried message is reported and dead-lettered as the original value, with its attempt count.
    const unwrapped = { ...base, rawValue: value, attempt };
    if (attempt > step.maxAttempts) {
      // Only the relay's re-sends of batches whose activations died count past the limit: a crash loop.
      const message = `delivered ${attempt} times without an activation finishing it (each died or timed out)`;
      return { ...unwrapped, kind: "dead-letter", reason: "retries-exhausted", message };
    }
    const parsed = step.catalog.parse(value);
    if (!parsed.ok) {
      return { ...unwrapped, kind: "dead-letter", reason: parsed.reason, message: parsed.message };
    }
    const event = parsed.event;
    if (!step.handles.includes(event.type)) return { ...unwrapped, kind: "ignored", event };
    const entityId = step.entityOf ? step.entityOf(event) : event.subject;
    if (typeof entityId !== "string" || entityId === "") {
      return {
        ...unwrapped,
        kind: "dead-letter",
        reason: "schema",
        message: `event ${event.id} names no entity (subject)`,
      };
    }
    return {
      ...unwrapped,
      kind: "event",
      event,
      key: idempotencyKey(event),
      entityId,
      notBefore,
    };
  });
}

/** A message the step applies: an event of a type it handles, with its entity and idempotency key. */
export type EventMessage = Extract<Classified, { kind: "event" }>;
