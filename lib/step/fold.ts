// Applying a run of events to one entity, in order: the pure heart of an entity step (no I/O, unit-tested).
import { createHash } from "node:crypto";
import type { CloudEvent } from "../events/envelope.ts";
import { attemptUpTo, failureReason } from "./attempt.ts";
import { type EntityDoc, entityDocId, type OutboxEntry } from "./documents.ts";
import { outboxEntriesFor } from "./emit.ts";
import { asMemory, keepNewest, type Memory } from "./retention.ts";
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

/** 128 bits of SHA-256: a short, fixed-size name for a key in the entity document. */
export function keyDigest(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 22);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function foldEntity<S>(
  step: EntityStepSpec<S>,
  entityId: string,
  current: EntityDoc<S> | undefined,
  events: PendingEvent[],
  options: { now: number; limits: StepLimits; retention: Retention; config?: Readonly<Record<string, unknown>> },
): FoldResult<S> {
  const { now } = options;
  let state = current?.state;
  let version = current?.version ?? 0;
  const remembered = asMemory(current?.applied);
  const seen = new Set(remembered.map(([digest]) => digest));
  const fresh: Memory = [];
  const added: OutboxEntry[] = [];
  const outcomes = new Map<number, FoldOutcome>();

  for (const pending of events) {
    const digest = keyDigest(pending.key);
    if (seen.has(digest)) {
      outcomes.set(pending.index, { status: "duplicate" });
      continue;
    }
    const handled = attemptUpTo(options.limits.handlerAttempts, () =>
      step.handle(pending.event, state, {
        now,
        step: step.name,
        entityId,
        config: options.config ?? {},
        retention: options.retention,
      }),
    );
    if (!handled.ok) {
      const message = errorText(handled.error);
      outcomes.set(pending.index, {
        status: "dead-letter",
        reason: failureReason(handled.error),
        message,
        attempts: handled.attempts,
      });
      continue;
    }
    const { value: decision, attempts } = handled;
    let entries: OutboxEntry[];
    try {
      entries = outboxEntriesFor(step, pending, decision.emit ?? [], entityId, now);
    } catch (err) {
      outcomes.set(pending.index, { status: "dead-letter", reason: "emit-invalid", message: errorText(err), attempts });
      continue;
    }
    state = decision.state;
    version += 1;
    seen.add(digest);
    fresh.push([digest, now]);
    added.push(...entries);
    outcomes.set(pending.index, { status: "applied", emitted: entries.map((entry) => entry.event.id) });
  }

  if (version === (current?.version ?? 0)) return { doc: undefined, outcomes, added };
  const outbox = [...(current?.outbox ?? []), ...added];
  const doc: EntityDoc<S> = {
    _id: current?._id ?? entityDocId(entityId),
    ...(current?._rev ? { _rev: current._rev } : {}),
    kind: "entity",
    state: state as S,
    version,
    applied: keepNewest([...remembered, ...fresh], now, options.retention),
    outbox,
    ...(outbox.length > 0 ? { outboxSince: current?.outboxSince ?? now } : {}),
    updatedAt: now,
  };
  return { doc, outcomes, added };
}
