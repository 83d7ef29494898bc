// One activation's batch for an event-sourced step: one query for the streams' commits, a replay, the pure
// decisions, one bulk write of one new commit per stream (again after a 409), one producer send, a bulk clear.
import type { CloudEvent } from "../events/envelope.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { attemptUpTo, failureReason } from "./attempt.ts";
import type { BatchIO } from "./batch-io.ts";
import { commitDocId, type OutboxEntry, type StreamCommitDoc, type StreamEntry } from "./documents.ts";
import { outboxEntriesFor } from "./emit.ts";
import { keyDigest } from "./fold.ts";
import type { EventMessage } from "./ledger.ts";
import type { BatchReport } from "./report.ts";
import { runUnitBatch, type UnitOutcome } from "./rounds.ts";
import { DEFAULT_RETENTION, type StepLimits, type StreamStepSpec } from "./spec.ts";
import { readStreams } from "./store-io.ts";
import { describeError } from "./transient.ts";

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
  let { state, applied, seq } = replay(step.evolve, commits);
  const entries: StreamEntry[] = [];
  const digests: string[] = [];
  const added: OutboxEntry[] = [];
  const outcomes = new Map<number, UnitOutcome>();
  for (const message of inputs) {
    const digest = keyDigest(message.key);
    if (applied.has(digest)) {
      outcomes.set(message.index, { status: "duplicate" });
      continue;
    }
    const decided = attemptUpTo(options.limits.handlerAttempts, () =>
      step.decide(message.event, state, {
        now: options.now,
        step: step.name,
        entityId: stream,
        config: options.config ?? {},
        retention: DEFAULT_RETENTION,
      }),
    );
    if (!decided.ok) {
      const text = describeError(decided.error);
      outcomes.set(message.index, {
        status: "dead-letter",
        reason: failureReason(decided.error),
        message: text,
        attempts: decided.attempts,
      });
      continue;
    }
    let result: { emitted: OutboxEntry[] };
    try {
      result = { emitted: outboxEntriesFor(step, message, decided.value, stream, options.now) };
    } catch (err) {
      const text = describeError(err);
      outcomes.set(message.index, {
        status: "dead-letter",
        reason: "emit-invalid",
        message: text,
        attempts: decided.attempts,
      });
      continue;
    }
    const emitted = result.emitted.map((entry) => entry.event);
    state = emitted.reduce(step.evolve, step.evolve(state, message.event));
    applied = new Set(applied).add(digest);
    entries.push({ input: message.event, emitted });
    digests.push(digest);
    added.push(...result.emitted);
    outcomes.set(message.index, { status: "applied", emitted: emitted.map((event) => event.id) });
  }
  if (entries.length === 0) return { added, outcomes };
  seq += 1;
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
