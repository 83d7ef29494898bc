// The step kit's public surface: nothing outside lib/step imports deeper than this file.
//
// One event's path through a step: the feed's payload is decoded (lib/feed), the batch landed (inbox.ts), each
// message classified (classify.ts), the handler applied (fold.ts, run-*-batch.ts with rounds.ts), the documents
// written (store-io.ts), the outbox published (publish.ts), and the landing settled (define.ts).

export type { BatchIO } from "./batch-io.ts";
// Clients, retries and errors.
export { clientsFor, closeAllClients, type StepClients } from "./clients.ts";
// Pure parts, exported for their unit tests and for tools that fold events as a step would.
export { gapsIn, mergeRuns, piecesOf, rangesOf, walk } from "./coverage.ts";
// Describing and defining steps.
export { defineEntityStep, defineKeyedStep, defineStreamStep, type StepAction, type StepAnswer } from "./define.ts";

// The documents a step keeps, and reading them back.
export {
  commitDocId,
  type EntityDoc,
  idempotencyDocId,
  keyDigest,
  type OutboxDoc,
  type OutboxEntry,
  type StepDoc,
  type StreamCommitDoc,
} from "./documents.ts";
export { foldEntity, type PendingEvent } from "./fold.ts";
export { findLandings } from "./inbox.ts";
export type { EventMessage } from "./ledger.ts";

// Publishing events from outside a step: alarms and the operator's commands.
export { eventRecords, type OutgoingRecord, recordOf, sendWithinDeadline } from "./outgoing.ts";
export type { StoreCall } from "./publish.ts";
export { publishOutbox, readRecorded, recordOnce } from "./record-once.ts";
// The relay and the coverage audit.
export { defineOutboxRelay, type RelayIO } from "./relay.ts";
export { type Memory, remember, remembers } from "./retention.ts";
export { decideCommit, replay } from "./run-stream-batch.ts";
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
  type Retention,
  type StepLimits,
  type StreamStepSpec,
  untyped,
} from "./spec.ts";
export {
  ensureStepIndexes,
  findStaleOutboxes,
  findStreamHeads,
  MissingDatabase,
  readDocs,
  readStreams,
  retireHeads,
  STEP_INDEXES,
} from "./store-io.ts";
export { type SweptStep, startCoverage, uncoveredOffsets } from "./sweeper.ts";
export {
  type Deadline,
  GaveUp,
  isTransientKafkaError,
  isTransientStoreError,
  retryWithinDeadline,
} from "./transient.ts";
