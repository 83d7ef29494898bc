// One activation's batch for an event-sourced step: one query for the streams' commits, a replay, the pure
// decisions, one bulk write of one new commit per stream (again after a 409), one producer send, a bulk clear.
import type { CloudEvent } from "../events/envelope.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { applyInOrder } from "./apply.ts";
import type { BatchIO } from "./batch-io.ts";
import { commitDocId, type OutboxEntry, type StreamCommitDoc, type StreamEntry } from "./documents.ts";
import type { EventMessage } from "./ledger.ts";
import type { BatchReport } from "./report.ts";
import { runUnitBatch, type UnitOutcome } from "./rounds.ts";
import { DEFAULT_RETENTION, type StepLimits, type StreamStepSpec } from "./spec.ts";
import { readStreams } from "./store-io.ts";

/**
 * Replays a stream: its state, the keys it has applied, its last sequence number. A stream's commits hold only
 * events its step's catalog parsed (inputs) or built (emits), so `evolve` may take the catalog's event type `E`.
 */
export function replay<S, E extends CloudEvent<string, unknown> = CloudEvent<string, unknown>>(
  evolve: (state: S | undefined, event: E) => S,
  commits: StreamCommitDoc[],
): { state: S | undefined; applied: Set<string>; seq: number } {
  let state: S | undefined;
  const applied = new Set<string>();
  for (const commit of commits) {
    for (const digest of commit.applied) applied.add(digest);
    for (const entry of commit.entries) {
      for (const event of [entry.input, ...entry.emitted]) state = evolve(state, event as E);
    }
  }
  return { state, applied, seq: commits.at(-1)?.seq ?? 0 };
}

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
    (digest) => replayed.applied.has(digest),
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
