// The step kit's lower layer, for code beside the steps: actions that record once and publish (operator commands,
// alarms), the dashboard, provisioning, the relay's audit, and the operator's tools in scripts/. A step's author
// needs only index.ts.

export { GaveUp, isTransientKafkaError, isTransientStoreError, retryWithinDeadline } from "../retry.ts";
export {
  findStaleOutboxes,
  MissingDatabase,
  type OutboxDoc,
  readDocs,
  retireHeads,
  STEP_INDEXES,
  writeDocs,
} from "./documents.ts";
export { clientsFor, closeAllClients, type StepClients, type StoreCall } from "./io.ts";
export { findLandings } from "./landing.ts";
export { type DeadLetter, parseDeadLetter, retryRecord } from "./letters.ts";
export type { OutgoingRecord } from "./outgoing.ts";
export { eventRecords, publishOutbox, readRecorded, recordOnce, sendWithinDeadline } from "./publish.ts";
export { type SweptStep, startCoverage, uncoveredOffsets } from "./sweeper.ts";
