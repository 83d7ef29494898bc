// The outcomes of one batch as they are decided, and the dead-letter and retry records they call for.
import type { CloudEvent } from "../events/envelope.ts";
import type { Classified, EventMessage } from "./classify.ts";
import { type DeadLetterReason, deadLetterRecord, retryDelayMs, retryRecord } from "./letters.ts";
import type { OutgoingRecord } from "./outgoing.ts";
import type { MessageReport } from "./reports.ts";
import type { StepLimits } from "./spec.ts";

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
