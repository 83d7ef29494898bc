// What a step does with a message it cannot apply: a dead letter (a person looks at it and may replay it) or a
// retry record (the step consumes it again later). The feed never redelivers, so these records are the only way back.
import { isRecord } from "../narrow.ts";
import type { OutgoingRecord } from "./outgoing.ts";

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

/** The fields a reader relies on; the rest is as the writer (this kit) wrote it. */
function isDeadLetter(value: unknown): value is DeadLetter {
  return (
    isRecord(value) && typeof value.step === "string" && typeof value.reason === "string" && isRecord(value.origin)
  );
}

/** A dead-letter record's value as a letter; undefined when it is not one (the topic may hold anything). */
export function parseDeadLetter(text: string | undefined): DeadLetter | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isDeadLetter(value) ? value : undefined;
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

function isRetryEnvelope(value: unknown): value is RetryEnvelope {
  return (
    isRecord(value) &&
    value.stepretry === 1 &&
    typeof value.attempt === "number" &&
    typeof value.notBefore === "number" &&
    "value" in value
  );
}

export function asRetryEnvelope(value: unknown): RetryEnvelope | undefined {
  return isRetryEnvelope(value) ? value : undefined;
}
