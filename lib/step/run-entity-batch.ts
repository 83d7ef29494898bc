// One activation's batch for an entity step: a bulk read, the pure fold, a bulk write (again for entities that met
// a 409), one producer send and a bulk clear of the outboxes. What fails goes to the retry or dead-letter topic.
import type { DecodedRecord } from "../feed/decode.ts";
import type { BatchIO } from "./batch-io.ts";
import { classify } from "./classify.ts";
import { type EntityDoc, entityDocId, type StepDoc } from "./documents.ts";
import { foldEntity } from "./fold.ts";
import { BatchLedger, type EventMessage } from "./ledger.ts";
import { publishAndClear } from "./publish.ts";
import { type BatchReport, summarize } from "./report.ts";
import { applyInRounds } from "./rounds.ts";
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type EntityStepSpec } from "./spec.ts";
import { readDocs } from "./store-io.ts";
import { isTransientStoreError, retryWithinDeadline } from "./transient.ts";

export async function runEntityBatch<S>(
  step: EntityStepSpec<S>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const retention = { ...DEFAULT_RETENTION, ...step.retention };
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const storeCall = <T>(fn: () => Promise<T>) =>
    retryWithinDeadline(fn, { deadline, now: io.now, isTransient: isTransientStoreError, sleep: io.sleep });
  const ledger = new BatchLedger(step, limits, io.now);

  // 1. Settle what cannot be read or is not this step's; group the rest by entity, in arrival (offset) order.
  const byEntity = new Map<string, EventMessage[]>();
  for (const message of classify(records, step)) {
    if (message.kind === "dead-letter") ledger.deadLetter(message, message.reason, message.message);
    else if (message.kind === "ignored") ledger.ignore(message);
    else byEntity.set(message.entityId, [...(byEntity.get(message.entityId) ?? []), message]);
  }
  await waitForRetryDelay([...byEntity.values()].flat(), io, limits.deadlineReserveMs);

  // 2. Read, fold, write; entities that met a 409 go round again.
  const { written, added } = await applyInRounds(
    {
      database: step.database,
      units: byEntity,
      read: (entities) => readDocs<EntityDoc<S>>(io.cloudant, step.database, entities.map(entityDocId)),
      decide: (entity, messages, current) => {
        const fold = foldEntity(step, entity, current.get(entityDocId(entity)), messages, {
          now: io.now(),
          limits,
          retention,
          config: io.config,
        });
        return { doc: fold.doc as StepDoc | undefined, added: fold.added, outcomes: fold.outcomes };
      },
      maxRounds: limits.conflictRounds,
    },
    io,
    ledger,
    storeCall,
  );

  // 3. Publish and clear.
  const { published, pending: outboxPending } = await publishAndClear(
    { ...io, afterPublish: io.crash?.afterPublish },
    step.database,
    written,
    added,
    ledger,
    deadline,
    storeCall,
  );
  return summarize(step.name, [...ledger.reports.values()], published, outboxPending);
}

/** A retried message names the earliest time to try again: wait for it when the deadline leaves room. */
async function waitForRetryDelay(messages: EventMessage[], io: BatchIO, reserveMs: number): Promise<void> {
  const notBefore = Math.max(0, ...messages.map((m) => m.notBefore));
  const room = io.deadline - reserveMs - io.now() - 10_000;
  const wait = Math.min(notBefore - io.now(), room);
  if (wait > 0) await (io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(wait);
}
