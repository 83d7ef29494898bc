// What an activation answers: each message's outcome, with counts, so `wsk activation result` tells the story.
import type { RecordOrigin } from "./failures.ts";

export type MessageStatus = "applied" | "duplicate" | "ignored" | "dead-lettered" | "sent-to-retry" | "unsent";

export interface MessageReport {
  index: number;
  origin: RecordOrigin;
  status: MessageStatus;
  eventId?: string;
  type?: string;
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
