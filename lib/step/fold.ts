// Applying a run of events to one entity, in order: the pure heart of an entity step (no I/O, unit-tested).
import type { CloudEvent } from "../events/envelope.ts";
import { applyInOrder } from "./apply.ts";
import { type EntityDoc, entityDocId, type OutboxEntry } from "./documents.ts";
import { asMemory, keepNewest } from "./retention.ts";
import type { UnitOutcome } from "./rounds.ts";
import type { EntityStepSpec, Retention, StepLimits } from "./spec.ts";

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
export type FoldOutcome = UnitOutcome;

export interface FoldResult<S> {
  /** The document to write, or undefined when nothing changed (all duplicates or failures). */
  doc: EntityDoc<S> | undefined;
  outcomes: Map<number, FoldOutcome>;
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
  const known = new Set(remembered.map(([digest]) => digest));
  const context = { now, step: step.name, entityId, config: options.config ?? {}, retention: options.retention };
  const { state, applied, outcomes } = applyInOrder(
    events,
    current?.state,
    (digest) => known.has(digest),
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
