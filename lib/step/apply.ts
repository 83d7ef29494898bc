// The kit's one apply loop: a unit's messages (an entity's or a stream's), in order. A key already applied is a
// duplicate; a handler that keeps throwing, or that emits what the catalog refuses, makes its message a dead
// letter; otherwise its emits become outbox entries and the unit's state moves on.

import { describeError } from "../errors.ts";
import type { CloudEvent } from "../events/envelope.ts";
import { attemptUpTo, failureReason } from "./attempt.ts";
import { keyDigest, type OutboxEntry } from "./documents.ts";
import { type EmittingStep, outboxEntriesFor } from "./emit.ts";
import type { UnitOutcome } from "./rounds.ts";
import type { Emit } from "./spec.ts";

export interface ApplyingMessage {
  /** Position of the message in the activation's batch, to report its outcome. */
  index: number;
  event: CloudEvent<string, unknown>;
  /** The event's idempotency key (source + id). */
  key: string;
}

/** What the handler made of one message: the events to emit, and the state once they are emitted. */
export interface Move<S> {
  emit: Emit[];
  next: (emitted: CloudEvent<string, unknown>[]) => S;
}

type DeadLetter = Extract<UnitOutcome, { status: "dead-letter" }>;

/** A handler's emits as outbox entries, or the dead letter they make when the catalog refuses one. */
export function entriesFor(
  step: EmittingStep,
  message: ApplyingMessage,
  emits: Emit[],
  subject: string,
  now: number,
  attempts: number,
): { ok: true; entries: OutboxEntry[] } | { ok: false; outcome: DeadLetter } {
  try {
    return { ok: true, entries: outboxEntriesFor(step, message, emits, subject, now) };
  } catch (err) {
    return {
      ok: false,
      outcome: { status: "dead-letter", reason: "emit-invalid", message: describeError(err), attempts },
    };
  }
}

export interface AppliedMessage<M> {
  message: M;
  digest: string;
  entries: OutboxEntry[];
}

export function applyInOrder<S, M extends ApplyingMessage>(
  messages: readonly M[],
  start: S | undefined,
  alreadyApplied: (digest: string) => boolean,
  move: (message: M, state: S | undefined) => Move<S>,
  options: { step: EmittingStep; subject: string; now: number; handlerAttempts: number },
): { state: S | undefined; applied: AppliedMessage<M>[]; outcomes: Map<number, UnitOutcome> } {
  let state = start;
  const applied: AppliedMessage<M>[] = [];
  const appliedNow = new Set<string>();
  const outcomes = new Map<number, UnitOutcome>();
  for (const message of messages) {
    const digest = keyDigest(message.key);
    if (appliedNow.has(digest) || alreadyApplied(digest)) {
      outcomes.set(message.index, { status: "duplicate" });
      continue;
    }
    const handled = attemptUpTo(options.handlerAttempts, () => move(message, state));
    if (!handled.ok) {
      const { error, attempts } = handled;
      outcomes.set(message.index, {
        status: "dead-letter",
        reason: failureReason(error),
        message: describeError(error),
        attempts,
      });
      continue;
    }
    const made = entriesFor(options.step, message, handled.value.emit, options.subject, options.now, handled.attempts);
    if (!made.ok) {
      outcomes.set(message.index, made.outcome);
      continue;
    }
    state = handled.value.next(made.entries.map((entry) => entry.event));
    appliedNow.add(digest);
    applied.push({ message, digest, entries: made.entries });
    outcomes.set(message.index, { status: "applied", emitted: made.entries.map((entry) => entry.event.id) });
  }
  return { state, applied, outcomes };
}
