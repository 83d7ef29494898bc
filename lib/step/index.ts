// The step kit's public surface: nothing outside lib/step imports deeper than this file.
//
// One event's path through a step, a file per concept:
//   define.ts     the action: decode the feed's payload (lib/feed), land, run the batch, settle, answer
//   landing.ts    the batch landed in parts before any work, retired once every record has a home
//   rounds.ts     read, decide, write per unit (entity or stream), again after a 409
//   classify.ts   records to events, ignored types and dead letters
//   ledger.ts     the batch's outcomes as they are decided, and the dead letters and retries they call for
//   apply.ts      the one apply loop: duplicates, the handler, its emits checked and made outbox entries
//   documents.ts  the documents a step keeps and the round trips to them
//   publish.ts    one producer call for outboxes, dead letters and retries; the outboxes cleared
//   reports.ts    the batch's report and the activation's answer, kept under the result limit
// Below them: letters.ts (dead-letter and retry records), outgoing.ts (a record to send).
// Beside them: spec.ts (how a step is described), io.ts (clients, retries), keyed.ts (steps with no entity),
// relay.ts, sweeper.ts and coverage.ts (the relay and its coverage audit).

export { foldEntity, type PendingEvent } from "./apply.ts";
export type { EventMessage } from "./classify.ts";
export { gapsIn, mergeRuns, piecesOf, rangesOf, walk } from "./coverage.ts";
export { defineEntityStep, defineKeyedStep, defineStreamStep, type StepAction, type StepAnswer } from "./define.ts";
export {
  commitDocId,
  type EntityDoc,
  ensureStepIndexes,
  findStaleOutboxes,
  findStreamHeads,
  idempotencyDocId,
  keyDigest,
  MissingDatabase,
  type OutboxDoc,
  type OutboxEntry,
  readDocs,
  readEntityPage,
  readEntityState,
  readEntityStates,
  readStreams,
  replay,
  retireHeads,
  STEP_INDEXES,
  type StepDoc,
  type StreamCommitDoc,
  writeDocs,
} from "./documents.ts";
export type { BatchIO } from "./io.ts";
export {
  clientsFor,
  closeAllClients,
  type Deadline,
  GaveUp,
  isTransientKafkaError,
  isTransientStoreError,
  retryWithinDeadline,
  type StepClients,
  type StoreCall,
} from "./io.ts";
export { findLandings } from "./landing.ts";
export { asRetryEnvelope, type DeadLetter, parseDeadLetter, type RetryEnvelope, retryRecord } from "./letters.ts";
export type { OutgoingRecord } from "./outgoing.ts";
export { eventRecords, publishOutbox, readRecorded, recordOf, recordOnce, sendWithinDeadline } from "./publish.ts";
export { defineOutboxRelay, type RelayIO } from "./relay.ts";
export { decideCommit } from "./rounds.ts";
export {
  type CatalogOf,
  DEFAULT_LIMITS,
  DEFAULT_RETENTION,
  type Decision,
  type Emit,
  type EmitOf,
  type EntityStepSpec,
  type HandlerContext,
  type KeyedDecision,
  type KeyedStepSpec,
  type Memory,
  type Retention,
  remember,
  remembers,
  type StepLimits,
  type StreamStepSpec,
  untyped,
} from "./spec.ts";
export { type SweptStep, startCoverage, uncoveredOffsets } from "./sweeper.ts";
