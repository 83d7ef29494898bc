// The kit's one apply loop: a unit's messages (an entity's or a stream's), in order. A key already applied is a
// duplicate, unless its payload differs (a producer reused an id: a dead letter, never silently dropped); a handler
// that keeps throwing, or that emits what the catalog refuses, makes its message a dead letter; otherwise its emits
// become outbox entries and the unit's state moves on.

import { ConfigError } from "../config/settings.ts";
import { describeError } from "../errors.ts";
import { EventSchemaError } from "../events/catalog.ts";
import { deriveEventId } from "../events/derived-id.ts";
import type { CloudEvent } from "../events/envelope.ts";
import {
  appliedEntry,
  appliedIndex,
  appliedKey,
  type EntityDoc,
  entityDocId,
  type OutboxEntry,
  payloadDigest,
} from "./documents.ts";
import type { DeadLetterReason } from "./letters.ts";
import {
  asMemory,
  type Emit,
  type EntityStepSpec,
  keepNewest,
  type Retention,
  type StepCatalog,
  type StepLimits,
} from "./spec.ts";

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

/** What became of one message of a unit: applied (with the ids it emitted), a duplicate, or a dead letter. */
export type UnitOutcome =
  | { status: "applied"; emitted: string[] }
  | { status: "duplicate" }
  | { status: "dead-letter"; reason: DeadLetterReason; message: string; attempts: number };

type DeadLetterOutcome = Extract<UnitOutcome, { status: "dead-letter" }>;

/** A handler's emits as outbox entries, or the dead letter they make when the catalog refuses one. */
export function entriesFor(
  step: EmittingStep,
  message: ApplyingMessage,
  emits: Emit[],
  subject: string,
  now: number,
  attempts: number,
): { ok: true; entries: OutboxEntry[] } | { ok: false; outcome: DeadLetterOutcome } {
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
  /** What the document keeps of it: appliedEntry(key, event). */
  digest: string;
  entries: OutboxEntry[];
}

export function applyInOrder<S, M extends ApplyingMessage>(
  messages: readonly M[],
  start: S | undefined,
  /** The unit's applied entries (appliedEntry), as its documents keep them. */
  appliedBefore: Iterable<string>,
  move: (message: M, state: S | undefined) => Move<S>,
  options: { step: EmittingStep; subject: string; now: number; handlerAttempts: number },
): { state: S | undefined; applied: AppliedMessage<M>[]; outcomes: Map<number, UnitOutcome> } {
  let state = start;
  const applied: AppliedMessage<M>[] = [];
  const known = appliedIndex(appliedBefore);
  const outcomes = new Map<number, UnitOutcome>();
  for (const message of messages) {
    const digest = appliedKey(message.key);
    const seen = known.get(digest);
    if (seen !== undefined) {
      outcomes.set(
        message.index,
        seen === "" || seen === payloadDigest(message.event)
          ? { status: "duplicate" }
          : {
              status: "dead-letter",
              reason: "payload-mismatch",
              message: `event ${message.event.id} from ${message.event.source} was applied before with another type, subject or data: its producer reused the id`,
              attempts: 1,
            },
      );
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
    known.set(digest, payloadDigest(message.event));
    applied.push({ message, digest: appliedEntry(message.key, message.event), entries: made.entries });
    outcomes.set(message.index, { status: "applied", emitted: made.entries.map((entry) => entry.event.id) });
  }
  return { state, applied, outcomes };
}

// Calling a pure handler a bounded number of times: a throw may not repeat (it can depend on time or memory), but
// one that keeps repeating makes the message a dead letter.

export type Attempted<T> = { ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number };

export function attemptUpTo<T>(times: number, call: () => T): Attempted<T> {
  let error: unknown;
  for (let attempts = 1; attempts <= times; attempts += 1) {
    try {
      return { ok: true, value: call(), attempts };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error, attempts: times };
}

/** The same for a handler that may wait (a keyed step's, which can reach other systems). */
export async function attemptUpToAsync<T>(times: number, call: () => Promise<T> | T): Promise<Attempted<T>> {
  let error: unknown;
  for (let attempts = 1; attempts <= times; attempts += 1) {
    try {
      return { ok: true, value: await call(), attempts };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error, attempts: times };
}

/** A handler that throws a ConfigError fails for every event until the deployment is fixed: say so in the reason. */
export function failureReason(error: unknown): "config-invalid" | "handler-failed" {
  return error instanceof ConfigError ? "config-invalid" : "handler-failed";
}

// Turning a handler's Emit list into outbox entries: ids derived from the input event's key, the step's name and
// the position, so a re-run of the same event emits the same ids.

export interface EmittingStep {
  name: string;
  source?: string;
  catalog: StepCatalog;
  routes: Readonly<Record<string, string>>;
}

/** Throws when an emitted type has no route or its data breaks the type's schema. */
export function outboxEntriesFor(
  step: EmittingStep,
  input: { event: CloudEvent<string, unknown>; key: string },
  emits: Emit[],
  defaultSubject: string,
  now: number,
): OutboxEntry[] {
  return emits.map((emit, position) => {
    const topic = step.routes[emit.type];
    if (!topic)
      throw new EventSchemaError(emit.type, "unknown-type", `no topic is routed for emitted type ${emit.type}`);
    const subject = emit.subject ?? defaultSubject;
    const sagaid = emit.sagaid ?? input.event.sagaid;
    const event = step.catalog.build(emit.type, {
      id: deriveEventId(input.key, step.name, position),
      source: step.source ?? `/steps/${step.name}`,
      subject,
      data: emit.data,
      time: new Date(now).toISOString(),
      causationid: input.event.id,
      ...(sagaid ? { sagaid } : {}),
      // Where the event came from, for the timelines people read; the event is written once, so it never varies.
      ...(process.env.__OW_ACTIVATION_ID ? { activationid: process.env.__OW_ACTIVATION_ID } : {}),
    });
    return { topic, key: subject, event };
  });
}

// Applying a run of events to one entity, in order: the pure heart of an entity step (no I/O, unit-tested).

export interface PendingEvent {
  /** Position of the message in the activation's batch, to report its outcome. */
  index: number;
  event: CloudEvent<string, unknown>;
  /** The event's idempotency key (source + id). */
  key: string;
  /** Deliveries so far through the retry topic (1 for a first delivery). */
  attempt: number;
}

/** A message's outcome, as the rounds of lib/step/rounds.ts record it. */

export interface FoldResult<S> {
  /** The document to write, or undefined when nothing changed (all duplicates or failures). */
  doc: EntityDoc<S> | undefined;
  outcomes: Map<number, UnitOutcome>;
  /** Outbox entries added by this fold, to publish once the document is written. */
  added: OutboxEntry[];
}

export function foldEntity<S>(
  step: EntityStepSpec<S>,
  entityId: string,
  current: EntityDoc<S> | undefined,
  events: PendingEvent[],
  options: { now: number; limits: StepLimits; retention: Retention; config?: Readonly<Record<string, unknown>> },
): FoldResult<S> {
  const { now } = options;
  const remembered = asMemory(current?.applied);
  const context = { now, step: step.name, entityId, config: options.config ?? {}, retention: options.retention };
  const { state, applied, outcomes } = applyInOrder(
    events,
    current?.state,
    remembered.map(([entry]) => entry),
    (pending, before) => {
      const decision = step.handle(pending.event, before, context);
      return { emit: decision.emit ?? [], next: () => decision.state };
    },
    { step, subject: entityId, now, handlerAttempts: options.limits.handlerAttempts },
  );
  const added = applied.flatMap((done) => done.entries);
  if (applied.length === 0) return { doc: undefined, outcomes, added };
  const outbox = [...(current?.outbox ?? []), ...added];
  const doc: EntityDoc<S> = {
    _id: current?._id ?? entityDocId(entityId),
    ...(current?._rev ? { _rev: current._rev } : {}),
    kind: "entity",
    // At least one event was applied, so the state is set.
    state: state as S,
    version: (current?.version ?? 0) + applied.length,
    applied: keepNewest(
      [...remembered, ...applied.map((done): [string, number] => [done.digest, now])],
      now,
      options.retention,
    ),
    outbox,
    ...(outbox.length > 0 ? { outboxSince: current?.outboxSince ?? now } : {}),
    updatedAt: now,
  };
  return { doc, outcomes, added };
}
