// From decoded feed records to events the step applies, events it ignores, and records it dead-letters.
import { type CloudEvent, idempotencyKey } from "../events/envelope.ts";
import { type DecodedRecord, decodeValue } from "../feed/decode.ts";
import type { OutgoingRecord } from "./publish.ts";
import type { StepCatalog, StepLimits } from "./spec.ts";

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

// What a step does with a message it cannot apply: a dead letter (a person looks at it and may replay it) or a
// retry record (the step consumes it again later). The feed never redelivers, so these records are the only way back.

export type RecordOrigin = { topic: string; partition: number; offset: string; key: string | null } | { direct: true };

export type DeadLetterReason =
  | "invalid-json"
  | "null-value"
  | "oversized"
  | "not-an-object"
  | "bad-encoding"
  | "envelope"
  | "schema"
  | "unknown-type"
  | "handler-failed"
  | "config-invalid"
  | "emit-invalid"
  | "payload-mismatch"
  | "retries-exhausted"
  | "malformed-params";

export interface DeadLetter {
  step: string;
  /** Where a replay of this letter goes: the step's retry topic, which its trigger consumes. */
  retryTopic?: string;
  reason: DeadLetterReason;
  message: string;
  attempts: number;
  origin: RecordOrigin;
  /** The record's value exactly as it arrived, or (oversized) a preview; the full value stays at `origin`. */
  record: unknown;
  recordTruncated?: true;
  failedAt: string;
}

/** A dead-letter record's value as a letter; undefined when it is not one (the topic may hold anything). */
export function parseDeadLetter(text: string | undefined): DeadLetter | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<DeadLetter>;
    return typeof value.step === "string" && typeof value.reason === "string" && value.origin
      ? (value as DeadLetter)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Dead letters must themselves fit in a Kafka record (1 MB by default); the original stays on its topic. */
const DEAD_LETTER_RECORD_LIMIT = 256 * 1024;

export function deadLetterRecord(topic: string, letter: DeadLetter): OutgoingRecord {
  const key = "topic" in letter.origin ? letter.origin.key : null;
  const value = JSON.stringify(letter);
  if (value.length <= DEAD_LETTER_RECORD_LIMIT) return { topic, key, value };
  const preview = (typeof letter.record === "string" ? letter.record : JSON.stringify(letter.record)).slice(0, 4096);
  return { topic, key, value: JSON.stringify({ ...letter, record: preview, recordTruncated: true }) };
}

/** How long a message waits before its next attempt: 2, 4, 8... seconds. */
export const retryDelayMs = (attempt: number) => 1_000 * 2 ** attempt;

/** The value of a record on a step's retry topic: the original value, wrapped with the attempt count. */
export interface RetryEnvelope {
  stepretry: 1;
  step: string;
  attempt: number;
  reason: string;
  /** Epoch ms before which the step should not try again. */
  notBefore: number;
  value: unknown;
}

export function retryRecord(
  topic: string,
  key: string | null,
  envelope: Omit<RetryEnvelope, "stepretry">,
): OutgoingRecord {
  return { topic, key, value: JSON.stringify({ stepretry: 1, ...envelope }) };
}

export function asRetryEnvelope(value: unknown): RetryEnvelope | undefined {
  const candidate = value as Partial<RetryEnvelope> | null;
  if (
    typeof candidate === "object" &&
    candidate !== null &&
    candidate.stepretry === 1 &&
    typeof candidate.attempt === "number" &&
    typeof candidate.notBefore === "number" &&
    "value" in candidate
  ) {
    return candidate as RetryEnvelope;
  }
  return undefined;
}

// The outcomes of one batch as they are decided, and the dead-letter and retry records they call for.

type EventMessage = Extract<Classified, { kind: "event" }>;

const sagaOf = (event: CloudEvent<string, unknown>) => (event.sagaid ? { saga: event.sagaid } : {});

/** The sagas a batch touched, for its log line: at most `max` ids, and how many there were. */
export function sagasOf(reports: MessageReport[], max = 20): { sagas: string[]; sagaCount: number } {
  const sagas = [...new Set(reports.flatMap((report) => (report.saga ? [report.saga] : [])))];
  return { sagas: sagas.slice(0, max), sagaCount: sagas.length };
}

export class BatchLedger {
  readonly reports = new Map<number, MessageReport>();
  /** Dead letters and retries, sent with the batch's outbox in one producer call. */
  readonly failures: { index: number; record: OutgoingRecord }[] = [];

  constructor(
    private readonly step: { name: string; topics: { retry: string; deadLetter: string } },
    private readonly limits: StepLimits,
    private readonly now: () => number,
  ) {}

  deadLetter(message: Classified, reason: DeadLetterReason, text: string, attempts = message.attempt): void {
    this.failures.push({
      index: message.index,
      record: deadLetterRecord(this.step.topics.deadLetter, {
        step: this.step.name,
        retryTopic: this.step.topics.retry,
        reason,
        message: text,
        attempts,
        origin: message.origin,
        record: message.rawValue,
        failedAt: new Date(this.now()).toISOString(),
      }),
    });
    this.reports.set(message.index, {
      index: message.index,
      origin: message.origin,
      status: "dead-lettered",
      ...("event" in message ? { eventId: message.event.id, type: message.event.type, ...sagaOf(message.event) } : {}),
      reason,
      message: text,
      attempt: attempts,
    });
  }

  /** Passing failures come back through the retry topic, with a growing delay, until the attempts run out. */
  sendToRetry(message: EventMessage, reason: string): void {
    if (message.attempt >= this.limits.retryAttempts) {
      this.deadLetter(message, "retries-exhausted", `still failing after ${message.attempt} attempts: ${reason}`);
      return;
    }
    this.failures.push({
      index: message.index,
      record: retryRecord(this.step.topics.retry, message.entityId, {
        step: this.step.name,
        attempt: message.attempt + 1,
        reason,
        notBefore: this.now() + retryDelayMs(message.attempt),
        value: message.rawValue,
      }),
    });
    this.settle(message, "sent-to-retry", { reason, attempt: message.attempt });
  }

  settle(
    message: EventMessage,
    status: "applied" | "duplicate" | "sent-to-retry",
    extra: Partial<MessageReport> = {},
  ): void {
    this.reports.set(message.index, {
      index: message.index,
      origin: message.origin,
      status,
      eventId: message.event.id,
      type: message.event.type,
      ...sagaOf(message.event),
      entity: message.entityId,
      ...extra,
    });
  }

  ignore(message: Extract<Classified, { kind: "ignored" }>): void {
    this.reports.set(message.index, {
      index: message.index,
      origin: message.origin,
      status: "ignored",
      eventId: message.event.id,
      type: message.event.type,
      ...sagaOf(message.event),
    });
  }

  /** The dead letters and retries could not be sent: their messages are reported with the record itself. */
  markFailuresUnsent(cause: string): void {
    for (const failure of this.failures) {
      const report = this.reports.get(failure.index);
      if (!report) continue;
      this.reports.set(failure.index, {
        ...report,
        status: "unsent",
        record: failure.record,
        message: `${report.message ?? report.reason}; not sent: ${cause}`,
      });
    }
  }
}

export type { EventMessage };

// What an activation answers: each message's outcome, with counts, so `wsk activation result` tells the story.

export type MessageStatus = "applied" | "duplicate" | "ignored" | "dead-lettered" | "sent-to-retry" | "unsent";

export interface MessageReport {
  index: number;
  origin: RecordOrigin;
  status: MessageStatus;
  eventId?: string;
  type?: string;
  /** The saga (correlation) the event belongs to, to follow one business transaction through the logs. */
  saga?: string;
  entity?: string;
  emitted?: string[];
  reason?: string;
  message?: string;
  attempt?: number;
  /** For a duplicate of a keyed step: the stored result of the first run. */
  result?: unknown;
  /** For "unsent" only: the record that could be sent neither to the retry nor the dead-letter topic. */
  record?: unknown;
  /** The record did not fit in the answer: it is in the activation's log. */
  recordInLog?: true;
}

export interface BatchReport {
  step: string;
  counts: Record<MessageStatus, number>;
  messages: MessageReport[];
  /** Outbox events published by this activation. */
  published: number;
  /** Outbox events left for the relay (publishing failed or was interrupted). */
  outboxPending: number;
  /** Unsent records kept in the step's database for the relay, which sends them once Kafka is back. */
  parkedIn?: string[];
  /** The landed batch could not be cleared of what is unsent: the relay re-sends it after the deadline. */
  landingKept?: true;
  /** How the answer was made to fit the result limit. */
  recordsInLog?: number;
  messagesOmitted?: number;
}

export function summarize(
  step: string,
  messages: MessageReport[],
  published: number,
  outboxPending: number,
): BatchReport {
  const counts: Record<MessageStatus, number> = {
    applied: 0,
    duplicate: 0,
    ignored: 0,
    "dead-lettered": 0,
    "sent-to-retry": 0,
    unsent: 0,
  };
  for (const message of messages) counts[message.status] += 1;
  return { step, counts, messages: [...messages].sort((a, b) => a.index - b.index), published, outboxPending };
}

// An activation's answer, kept under OpenWhisk's result limit (1 MB): a result over it is replaced by an error and
// everything in it is lost. Records that do not fit go to the activation's log (10 MB), one JSON line each.

/** An activation's answer: the batch report, or an `error` that OpenWhisk records as an application error. */
export type StepAnswer =
  | BatchReport
  | { error: { step: string; message: string; report?: BatchReport; unprocessed?: unknown } };

/** Well under the 1 MB result limit, leaving room for OpenWhisk's own fields. */
export const ANSWER_LIMIT_BYTES = 800 * 1024;

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? "");

/** Moves unsent records into the log, then drops message details, until the report fits. */
function fitReport(report: BatchReport, limit: number, log: (line: string) => void): BatchReport {
  if (size(report) <= limit) return report;
  let logged = 0;
  const messages = report.messages.map((message) => {
    if (message.record === undefined) return message;
    log(JSON.stringify({ unsentRecord: message.record, index: message.index, origin: message.origin }));
    logged += 1;
    const { record: _, ...rest } = message;
    return { ...rest, recordInLog: true as const };
  });
  const slim = { ...report, messages, ...(logged > 0 ? { recordsInLog: logged } : {}) };
  if (size(slim) <= limit) return slim;
  const kept = Math.max(0, Math.floor((messages.length * limit) / size(slim)) - 1);
  return { ...slim, messages: messages.slice(0, kept), messagesOmitted: messages.length - kept };
}

export function answerFor(step: string, report: BatchReport, log: (line: string) => void): StepAnswer {
  const fitted = fitReport(report, ANSWER_LIMIT_BYTES, log);
  if (fitted.counts.unsent === 0) return fitted;
  const where = fitted.parkedIn
    ? `they are parked in ${fitted.parkedIn.length} document(s) for the relay`
    : fitted.landingKept
      ? "the landed batch is kept for the relay"
      : "this result and the activation's log list them";
  const message = `${fitted.counts.unsent} message(s) could be sent neither to the retry nor to the dead-letter topic; ${where}`;
  return { error: { step, message, report: fitted } };
}

/** Parameters that are neither a feed fire nor an event, kept in the answer (or the log when too large). */
export function malformedAnswer(
  step: string,
  message: string,
  unprocessed: unknown,
  log: (line: string) => void,
): StepAnswer {
  if (size(unprocessed) <= ANSWER_LIMIT_BYTES) return { error: { step, message, unprocessed } };
  log(JSON.stringify({ unprocessed }));
  return { error: { step, message, unprocessed: "(too large for the result: see the activation's log)" } };
}
