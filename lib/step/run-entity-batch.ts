// One activation's batch for an entity step: a bulk read, the pure fold, a bulk write (again for entities that met
// a 409), one producer send and a bulk clear of the outboxes. What fails goes to the retry or dead-letter topic.
import type { DecodedRecord } from "../feed/decode.ts";
import type { BatchIO } from "./batch-io.ts";
import { classify } from "./classify.ts";
import { type EntityDoc, entityDocId, type OutboxEntry, type StepDoc } from "./documents.ts";
import { foldEntity } from "./fold.ts";
import { BatchLedger, type EventMessage } from "./ledger.ts";
import { publishAndClear } from "./publish.ts";
import { type BatchReport, summarize } from "./report.ts";
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type EntityStepSpec } from "./spec.ts";
import { readDocs, writeDocs } from "./store-io.ts";
import { describeError, isTransientStoreError, retryWithinDeadline } from "./transient.ts";

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
  const retryEntities = (entities: string[], reason: string) => {
    for (const entity of entities)
      for (const message of byEntity.get(entity) ?? []) ledger.sendToRetry(message, reason);
  };

  // 2. Read, fold, write. Entities whose write met a 409 (another activation changed them) go round again.
  const written: EntityDoc<S>[] = [];
  const added: OutboxEntry[] = [];
  let pending = [...byEntity.keys()];
  for (let round = 1; pending.length > 0 && round <= limits.conflictRounds; round += 1) {
    let current: Map<string, EntityDoc<S>>;
    try {
      current = await storeCall(() => readDocs<EntityDoc<S>>(io.cloudant, step.database, pending.map(entityDocId)));
    } catch (err) {
      retryEntities(pending, `reading ${step.database} failed: ${describeError(err)}`);
      pending = [];
      break;
    }
    const folds = pending.map((entity) => {
      const messages = byEntity.get(entity) ?? [];
      const doc = current.get(entityDocId(entity));
      return {
        entity,
        messages,
        fold: foldEntity(step, entity, doc, messages, { now: io.now(), limits, retention, config: io.config }),
      };
    });
    const changed = folds.flatMap((f) => (f.fold.doc ? [f.fold.doc] : []));
    await io.crash?.beforeWrite?.();
    let results: Awaited<ReturnType<typeof writeDocs>> | undefined;
    try {
      results = await storeCall(() => writeDocs(io.cloudant, step.database, changed as StepDoc[]));
    } catch (err) {
      retryEntities(
        folds.filter((f) => f.fold.doc).map((f) => f.entity),
        `writing ${step.database} failed: ${describeError(err)}`,
      );
    }
    await io.crash?.afterWrite?.();
    const nextRound: string[] = [];
    for (const { entity, messages, fold } of folds) {
      if (fold.doc) {
        const result = results?.get(fold.doc._id);
        if (!result) continue; // already sent to retry
        if (!result.ok) {
          if (result.conflict) nextRound.push(entity);
          else retryEntities([entity], `writing ${fold.doc._id} failed: ${result.reason}`);
          continue;
        }
        written.push({ ...fold.doc, _rev: result.rev });
        added.push(...fold.added);
      }
      for (const message of messages) {
        const outcome = fold.outcomes.get(message.index);
        if (outcome?.status === "dead-letter")
          ledger.deadLetter(message, outcome.reason, outcome.message, outcome.attempts);
        else if (outcome?.status === "applied") ledger.settle(message, "applied", { emitted: outcome.emitted });
        else if (outcome) ledger.settle(message, "duplicate");
      }
    }
    pending = nextRound;
  }
  retryEntities(pending, `409 conflicts persisted for ${limits.conflictRounds} rounds`);

  // 3. Publish and clear.
  const { published, pending: outboxPending } = await publishAndClear(
    { ...io, afterPublish: io.crash?.afterPublish },
    step.database,
    written as StepDoc[],
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
