// A batch's outcomes: the ledger records each message's as it is decided (with the dead-letter and retry records it
// calls for), and the activation answers with them, counted, so `wsk activation result` tells the story.
import type { CloudEvent } from "../events/envelope.ts";
import type { Classified, EventMessage } from "./classify.ts";
import { type DeadLetterReason, deadLetterRecord, type RecordOrigin, retryDelayMs, retryRecord } from "./letters.ts";
import type { OutgoingRecord } from "./outgoing.ts";
import type { StepLimits } from "./spec.ts";

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
  record?: OutgoingRecord;
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

  /** The batch's report: every message's outcome in the order it came, counted by status. */
  summarize(published: number, outboxPending: number): BatchReport {
    const counts: Record<MessageStatus, number> = {
      applied: 0,
      duplicate: 0,
      ignored: 0,
      "dead-lettered": 0,
      "sent-to-retry": 0,
      unsent: 0,
    };
    const messages = [...this.reports.values()].sort((a, b) => a.index - b.index);
    for (const message of messages) counts[message.status] += 1;
    return { step: this.step.name, counts, messages, published, outboxPending };
  }
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

export function answerFor(report: BatchReport, log: (line: string) => void): StepAnswer {
  const fitted = fitReport(report, ANSWER_LIMIT_BYTES, log);
  if (fitted.counts.unsent === 0) return fitted;
  const where = fitted.parkedIn
    ? `they are parked in ${fitted.parkedIn.length} document(s) for the relay`
    : fitted.landingKept
      ? "the landed batch is kept for the relay"
      : "this result and the activation's log list them";
  const message = `${fitted.counts.unsent} message(s) could be sent neither to the retry nor to the dead-letter topic; ${where}`;
  return { error: { step: report.step, message, report: fitted } };
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
