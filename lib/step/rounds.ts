// The read, decide, write loop that entity and event-sourced steps share: one bulk read and one bulk write per
// round for every unit (entity or stream) still pending; units whose write met a 409 (another activation changed
// them) go round again; what cannot be read or written goes to the retry topic.
import { describeError } from "../errors.ts";
import type { CloudEvent } from "../events/envelope.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { applyInOrder, foldEntity, type UnitOutcome } from "./apply.ts";
import { classify, type EventMessage } from "./classify.ts";
import {
  commitDocId,
  type EntityDoc,
  entityDocId,
  type OutboxEntry,
  readDocs,
  readStreams,
  replay,
  retireHeads,
  type StepDoc,
  type StreamCommitDoc,
  type StreamEntry,
  writeDocs,
} from "./documents.ts";
import { type BatchIO, type StoreCall, storeCallWithin } from "./io.ts";
import { retryDelayMs } from "./letters.ts";
import { BatchLedger, type BatchReport } from "./outcomes.ts";
import { publishAndClear } from "./publish.ts";
import {
  type BatchStep,
  DEFAULT_LIMITS,
  DEFAULT_RETENTION,
  type EntityStepSpec,
  type StepLimits,
  type StreamStepSpec,
} from "./spec.ts";

/** What a unit's messages come to: the document to write (none if nothing changed) and each message's outcome. */
export interface UnitDecision {
  doc?: StepDoc;
  added: OutboxEntry[];
  outcomes: Map<number, UnitOutcome>;
  /** Stream commits that stop being their stream's head once `doc` is written. */
  retire?: StreamCommitDoc[];
}

export interface RoundsPlan<Current> {
  database: string;
  units: Map<string, EventMessage[]>;
  /** One bulk read of the pending units' current documents. */
  read: (units: string[]) => Promise<Current>;
  decide: (unit: string, messages: EventMessage[], current: Current) => UnitDecision;
  maxRounds: number;
}

export async function applyInRounds<Current>(
  plan: RoundsPlan<Current>,
  io: BatchIO,
  ledger: BatchLedger,
  storeCall: StoreCall,
): Promise<{ written: StepDoc[]; added: OutboxEntry[]; retired: StreamCommitDoc[] }> {
  const retry = (units: string[], reason: string) => {
    for (const unit of units) for (const message of plan.units.get(unit) ?? []) ledger.sendToRetry(message, reason);
  };
  const written: StepDoc[] = [];
  const added: OutboxEntry[] = [];
  const retired: StreamCommitDoc[] = [];
  let pending = [...plan.units.keys()];
  for (let round = 1; pending.length > 0 && round <= plan.maxRounds; round += 1) {
    let current: Current;
    try {
      current = await storeCall(() => plan.read(pending));
    } catch (err) {
      retry(pending, `reading ${plan.database} failed: ${describeError(err)}`);
      return { written, added, retired };
    }
    const decisions = pending.map((unit) => {
      const messages = plan.units.get(unit) ?? [];
      return { unit, messages, decision: plan.decide(unit, messages, current) };
    });
    const changed = decisions.flatMap((d) => (d.decision.doc ? [d.decision.doc] : []));
    await io.crash?.beforeWrite?.();
    let results: Awaited<ReturnType<typeof writeDocs>> | undefined;
    try {
      results = await storeCall(() => writeDocs(io.cloudant, plan.database, changed));
    } catch (err) {
      retry(
        decisions.filter((d) => d.decision.doc).map((d) => d.unit),
        `writing ${plan.database} failed: ${describeError(err)}`,
      );
    }
    await io.crash?.afterWrite?.();
    const nextRound: string[] = [];
    for (const { unit, messages, decision } of decisions) {
      if (decision.doc) {
        const result = results?.get(decision.doc._id);
        if (!result) continue; // already sent to retry
        if (!result.ok) {
          if (result.conflict) nextRound.push(unit);
          else retry([unit], `writing ${decision.doc._id} failed: ${result.reason}`);
          continue;
        }
        written.push({ ...decision.doc, _rev: result.rev });
        added.push(...decision.added);
        retired.push(...(decision.retire ?? []));
      }
      for (const message of messages) {
        const outcome = decision.outcomes.get(message.index);
        if (outcome?.status === "dead-letter")
          ledger.deadLetter(message, outcome.reason, outcome.message, outcome.attempts);
        else if (outcome?.status === "applied") ledger.settle(message, "applied", { emitted: outcome.emitted });
        else if (outcome) ledger.settle(message, "duplicate");
      }
    }
    pending = nextRound;
  }
  retry(pending, `409 conflicts persisted for ${plan.maxRounds} rounds`);
  return { written, added, retired };
}

/**
 * A retried message names the earliest time to try again: wait for it when the deadline leaves room, and never
 * longer than the kit's own longest delay, whatever the record says.
 */
export async function waitForRetryDelay(messages: EventMessage[], io: BatchIO, limits: StepLimits): Promise<void> {
  const notBefore = Math.max(0, ...messages.map((m) => m.notBefore));
  const room = io.deadline - limits.deadlineReserveMs - io.now() - 10_000;
  const wait = Math.min(notBefore - io.now(), room, retryDelayMs(limits.retryAttempts));
  if (wait > 0) await (io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(wait);
}

/**
 * One activation's batch for a step whose units (entities or streams) are read and written as documents: settle what
 * cannot be read or is not the step's, group the rest by unit in arrival (offset) order, apply in rounds, then
 * publish and clear in one producer call and one bulk write.
 */
export async function runUnitBatch<Current>(
  step: BatchStep,
  records: DecodedRecord[],
  io: BatchIO,
  units: {
    of: (event: CloudEvent<string, unknown>) => string;
    read: (units: string[]) => Promise<Current>;
    decide: (unit: string, messages: EventMessage[], current: Current, limits: StepLimits) => UnitDecision;
  },
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const storeCall = storeCallWithin(deadline, io);
  const ledger = new BatchLedger(step, limits, io.now);

  const byUnit = new Map<string, EventMessage[]>();
  for (const message of classify(records, { ...step, entityOf: units.of, maxAttempts: limits.retryAttempts })) {
    if (message.kind === "dead-letter") ledger.deadLetter(message, message.reason, message.message);
    else if (message.kind === "ignored") ledger.ignore(message);
    else byUnit.set(message.entityId, [...(byUnit.get(message.entityId) ?? []), message]);
  }
  await waitForRetryDelay([...byUnit.values()].flat(), io, limits);

  const { written, added, retired } = await applyInRounds(
    {
      database: step.database,
      units: byUnit,
      read: units.read,
      decide: (unit, messages, current) => units.decide(unit, messages, current, limits),
      maxRounds: limits.conflictRounds,
    },
    io,
    ledger,
    storeCall,
  );
  const { published, pending } = await publishAndClear(
    { ...io, afterPublish: io.crash?.afterPublish },
    step.database,
    written,
    added,
    ledger,
    deadline,
    storeCall,
  );
  // Best effort: a head left behind only costs a query a few more documents, and its next reader retires it.
  await storeCall(() => retireHeads(io.cloudant, step.database, retired)).catch(() => undefined);
  return ledger.summarize(published, pending);
}

// One activation's batch for an entity step: a bulk read of the entities, the pure fold, a bulk write (again for
// entities that met a 409), one producer send and a bulk clear of the outboxes (lib/step/rounds.ts).

export function runEntityBatch<S>(
  step: EntityStepSpec<S>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  const retention = { ...DEFAULT_RETENTION, ...step.retention };
  return runUnitBatch(step, records, io, {
    of: step.entityOf ?? ((event) => event.subject),
    read: (entities) => readDocs<EntityDoc<S>>(io.cloudant, step.database, entities.map(entityDocId)),
    decide: (entity, messages, current, limits) => {
      const fold = foldEntity(step, entity, current.get(entityDocId(entity)), messages, {
        now: io.now(),
        limits,
        retention,
        config: io.config,
      });
      return { doc: fold.doc, added: fold.added, outcomes: fold.outcomes };
    },
  });
}

// One activation's batch for an event-sourced step: one query for the streams' commits, a replay, the pure
// decisions, one bulk write of one new commit per stream (again after a 409), one producer send, a bulk clear.

/** The new commit for one stream's inputs of this batch, or none when every input was a duplicate or failed. */
export function decideCommit<S>(
  step: StreamStepSpec<S>,
  stream: string,
  commits: StreamCommitDoc[],
  inputs: EventMessage[],
  options: { now: number; limits: StepLimits; config?: Readonly<Record<string, unknown>> },
): {
  commit?: StreamCommitDoc;
  added: OutboxEntry[];
  outcomes: Map<number, UnitOutcome>;
  supersedes?: StreamCommitDoc;
} {
  const replayed = replay(step.evolve, commits);
  const context = { now: options.now, step: step.name, entityId: stream, config: options.config ?? {} };
  const { state, applied, outcomes } = applyInOrder(
    inputs,
    replayed.state,
    replayed.applied,
    (message, before) => ({
      emit: step.decide(message.event, before, { ...context, retention: DEFAULT_RETENTION }),
      next: (emitted) => emitted.reduce(step.evolve, step.evolve(before, message.event)),
    }),
    { step, subject: stream, now: options.now, handlerAttempts: options.limits.handlerAttempts },
  );
  const entries: StreamEntry[] = applied.map((done) => ({
    input: done.message.event,
    emitted: done.entries.map((entry) => entry.event),
  }));
  const digests = applied.map((done) => done.digest);
  const added = applied.flatMap((done) => done.entries);
  if (entries.length === 0) return { added, outcomes };
  const seq = replayed.seq + 1;
  const commit: StreamCommitDoc = {
    _id: commitDocId(stream, seq),
    kind: "commit",
    stream,
    seq,
    applied: digests,
    entries,
    outbox: added,
    ...(added.length > 0 ? { outboxSince: options.now } : {}),
    committedAt: options.now,
    ...(step.project && state !== undefined ? { view: step.project(state) } : {}),
    head: true,
  };
  return { commit, added, outcomes, supersedes: commits.at(-1) };
}

export function runStreamBatch<S>(
  step: StreamStepSpec<S>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  return runUnitBatch(step, records, io, {
    of: step.streamOf,
    read: (streams) => readStreams(io.cloudant, step.database, streams),
    decide: (stream, messages, commits, limits) => {
      const decision = decideCommit(step, stream, commits.get(stream) ?? [], messages, {
        now: io.now(),
        limits,
        config: io.config,
      });
      return {
        doc: decision.commit,
        added: decision.added,
        outcomes: decision.outcomes,
        ...(decision.supersedes ? { retire: [decision.supersedes] } : {}),
      };
    },
  });
}
