// The step kit for a step's author: define a step (entity, stream or keyed) and the relay, the spec and handler
// types, and the few reads the views use. What runs beside the steps (one-shot actions that record and publish,
// the dashboard, provisioning, the operator's tools) uses tools.ts. Everything else in lib/step is internal: tests
// import it from its own file. lib/step imports the rest of lib/ (the store, Kafka, the feed's contract, retries),
// nothing outside lib/.
//
// One event's path through a step, a file per concept:
//   define.ts     the action: decode the feed's payload (lib/feed), run the batch in its landing, answer
//   landing.ts    the batch landed in parts before any work, then run, then retired once every record has a home
//   rounds.ts     read, decide, write per unit (entity or stream), again after a 409
//   classify.ts   records to events, ignored types and dead letters
//   apply.ts      the one apply loop: duplicates, the handler, its emits checked and made outbox entries
//   documents.ts  the documents a step keeps and the round trips to them
//   publish.ts    one producer call for outboxes, dead letters and retries; the outboxes cleared
//   outcomes.ts   each message's outcome as it is decided (the ledger), then the batch's report and the answer
// Below them: letters.ts (dead-letter and retry records), outgoing.ts (a record to send).
// Beside them: spec.ts (how a step is described), io.ts (clients, the store call; retries are lib/retry.ts),
// keyed.ts (steps with no entity), relay.ts, sweeper.ts and coverage.ts (the relay and its coverage audit).
// Surfaces: this file (a step's author), reads.ts (a view: no Kafka in its bundle), tools.ts (code beside steps).

export { defineEntityStep, defineKeyedStep, defineStreamStep, type StepAction, type StepAnswer } from "./define.ts";
// The reads a view needs (seven names: findStreamHeads, readEntityPage, readEntityState, readEntityStates,
// readStreams, replay, StreamCommitDoc).
export * from "./reads.ts";
export { defineOutboxRelay } from "./relay.ts";
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
} from "./spec.ts";
