// The inbox: the batch as it arrived, landed in the step's database before anything else, and deleted when every
// record has a home (applied, or sent to a topic). OpenWhisk's feed commits a batch when the fire is accepted and
// never delivers a killed activation's messages again; a landed batch whose activation died is what the relay finds
// (after the activation's deadline, when OpenWhisk has surely ended it) and sends to the step's retry topic, so the
// step applies what the dead activation did not (and absorbs, as duplicates, what it did).
//
// A batch is landed in parts: the feed fills a fire up to about 900 KB, and a store document may hold at most 1 MB
// (IBM Cloudant), so one document cannot hold a full batch. Each part says which offsets it covers; once its
// records have a home, the part is rewritten as a small `seen` record of that coverage, which the relay's coverage
// audit folds away (lib/step/sweeper.ts). Records that could be sent neither to the retry nor the dead-letter topic
// (Kafka unreachable) are parked: kept as the exact records to send, for the relay.
import { randomUUID } from "node:crypto";
import { describeError } from "../errors.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { splitBySize } from "../split-by-size.ts";
import type { Cloudant } from "../store/client.ts";
import { classify, originOf } from "./classify.ts";
import { type Ranges, rangesOf } from "./coverage.ts";
import { readDocs, StoreWriteFailed, writeDocs } from "./documents.ts";
import { type BatchIO, type StoreCall, storeCallWithin } from "./io.ts";
import type { RecordOrigin } from "./letters.ts";
import { BatchLedger, type BatchReport } from "./outcomes.ts";
import type { OutgoingRecord } from "./outgoing.ts";
import { publishAndClear } from "./publish.ts";
import { type BatchStep, DEFAULT_LIMITS } from "./spec.ts";

export interface LandedRecord {
  origin: RecordOrigin;
  key: string | null;
  value: unknown;
}

interface LandingDoc {
  _id: string;
  _rev?: string;
  step: string;
  /** Epoch ms after which the relay may send the records: the landing activation is over, dead or alive. */
  deadline: number;
  part: number;
  parts: number;
}

export interface InboxDoc extends LandingDoc {
  kind: "inbox";
  retryTopic: string;
  covers: Ranges;
  records: LandedRecord[];
}

/** A landing whose records have a home: only the offsets it covered are kept, until the coverage audit folds it. */
export interface SeenDoc {
  _id: string;
  _rev?: string;
  kind: "seen";
  step: string;
  covers: Ranges;
  at: number;
}

export interface ParkedDoc extends LandingDoc {
  kind: "parked";
  records: OutgoingRecord[];
}

/** The fields of a landing or a `seen` record the coverage audit reads. */
export interface CoverageDoc {
  _id: string;
  _rev: string;
  kind: "inbox" | "seen";
  covers: Ranges;
}

/** What one activation landed: the parts' ids, revisions and coverage, to retire them when the work is done. */
export interface Landing {
  docs: { _id: string; _rev: string; covers: Ranges }[];
}

/**
 * Bytes of records per part. Well under Cloudant's 1 MB per document, so a full feed batch is about ten parts
 * written in one request; a single record larger than this has a part of its own (the feed caps a fire at 900 KB).
 */
export const PART_BYTES = 96 * 1024;

const activationId = () => process.env.__OW_ACTIVATION_ID ?? randomUUID();

/** The batch as landing documents (pure). */
export function inboxDocs(
  step: { name: string; retryTopic: string },
  records: DecodedRecord[],
  deadline: number,
  activation = activationId(),
): InboxDoc[] {
  const landed = records.map((record): LandedRecord => {
    const origin = originOf(record);
    return { origin, key: "topic" in origin ? origin.key : null, value: record.rawValue };
  });
  const runs = splitBySize(landed, PART_BYTES);
  return runs.map((run, index) => ({
    _id: `inbox:${step.name}:${activation}:${index}`,
    kind: "inbox",
    step: step.name,
    retryTopic: step.retryTopic,
    deadline,
    part: index,
    parts: runs.length,
    covers: rangesOf(run.map((record) => record.origin)),
    records: run,
  }));
}

/** The coverage of records that found a home without a landing (sent to the retry topic when landing failed). */
export function seenDoc(step: string, records: DecodedRecord[], now: number, activation = activationId()): SeenDoc {
  return { _id: `seen:${step}:${activation}`, kind: "seen", step, covers: rangesOf(records.map(originOf)), at: now };
}

/** Records to send as they are, kept until Kafka takes them (pure). The relay sends them at its next run. */
export function parkedDocs(step: string, records: OutgoingRecord[], activation = activationId()): ParkedDoc[] {
  const runs = splitBySize(records, PART_BYTES);
  return runs.map((run, index) => ({
    _id: `parked:${step}:${activation}:${index}`,
    kind: "parked",
    step,
    deadline: 0,
    part: index,
    parts: runs.length,
    records: run,
  }));
}

/**
 * Writes the documents in one request, then again those that failed, within the store call's deadline. A conflict
 * means an earlier try wrote the part and its answer was lost: its revision is read back. Throws when a part still
 * cannot be written: the caller must then find the records another home.
 */
export async function writeAll(
  cloudant: Cloudant,
  db: string,
  docs: (InboxDoc | ParkedDoc | SeenDoc)[],
  storeCall: StoreCall,
): Promise<Landing> {
  const coverOf = (id: string): Ranges => {
    const doc = docs.find((candidate) => candidate._id === id);
    return doc && "covers" in doc ? doc.covers : {};
  };
  const written: Landing["docs"] = [];
  const alreadyThere: string[] = [];
  let pending = docs;
  for (let round = 1; pending.length > 0; round += 1) {
    const batch = pending;
    const results = await storeCall(() => writeDocs(cloudant, db, batch));
    pending = [];
    for (const doc of batch) {
      const result = results.get(doc._id);
      if (result?.ok) written.push({ _id: doc._id, _rev: result.rev, covers: coverOf(doc._id) });
      else if (result?.conflict) alreadyThere.push(doc._id);
      else if (round >= 3) {
        const why = result && !result.ok ? result.reason : "no answer for it";
        throw new StoreWriteFailed(`landing ${doc._id} in ${db} failed: ${why}`);
      } else pending.push(doc);
    }
  }
  if (alreadyThere.length > 0) {
    const found = await storeCall(() => readDocs(cloudant, db, alreadyThere));
    for (const id of alreadyThere) {
      const rev = found.get(id)?._rev;
      if (!rev) throw new StoreWriteFailed(`landing ${id} in ${db} failed: a conflict, then no document`);
      written.push({ _id: id, _rev: rev, covers: coverOf(id) });
    }
  }
  return { docs: written };
}

/**
 * Rewrites the landed parts as `seen` records of what they covered: the records have a home. What cannot be
 * rewritten is left to the relay, which then only sends duplicates.
 */
export async function retireLanding(
  cloudant: Cloudant,
  db: string,
  step: string,
  landing: Landing,
  now: number,
  storeCall: StoreCall,
) {
  if (landing.docs.length === 0) return;
  await storeCall(() =>
    writeDocs(
      cloudant,
      db,
      landing.docs.map((doc): SeenDoc => ({ ...doc, kind: "seen", step, at: now })),
    ),
  );
}

/** Landed batches whose activation is over without having cleared them, and parked records. */
export async function findLandings(
  cloudant: Cloudant,
  db: string,
  now: number,
  limit: number,
): Promise<(InboxDoc | ParkedDoc)[]> {
  const found: (InboxDoc | ParkedDoc)[] = [];
  for (const kind of ["parked", "inbox"] as const) {
    const response = await cloudant.postFind<InboxDoc | ParkedDoc>({
      db,
      selector: { kind, deadline: { $lt: now } },
      limit,
    });
    found.push(...response.result.docs);
  }
  return found;
}

/** The coverage of a step: its landings still at work or abandoned, and its `seen` records (no records loaded). */
export async function findCoverage(cloudant: Cloudant, db: string, step: string): Promise<CoverageDoc[]> {
  const found: CoverageDoc[] = [];
  for (const kind of ["inbox", "seen"] as const) {
    const response = await cloudant.postFind<CoverageDoc>({
      db,
      selector: { kind, step },
      fields: ["_id", "_rev", "kind", "covers"],
      limit: 100_000,
    });
    found.push(...response.result.docs);
  }
  return found;
}

// A batch the step could not land (the store did not answer within the deadline) is not worked on: a kill would
// lose it. Every record goes to the step's retry topic instead, which keeps it until the store is back; what cannot
// be read goes to the dead-letter topic as usual.

async function sendAllToRetry(
  step: BatchStep,
  records: DecodedRecord[],
  io: BatchIO,
  reason: string,
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const ledger = new BatchLedger(step, limits, io.now);
  for (const message of classify(records, { ...step, maxAttempts: limits.retryAttempts })) {
    if (message.kind === "dead-letter") ledger.deadLetter(message, message.reason, message.message);
    else if (message.kind === "ignored") ledger.ignore(message);
    else ledger.sendToRetry(message, reason);
  }
  const storeCall = storeCallWithin(deadline, io);
  const { published, pending } = await publishAndClear(io, step.database, [], [], ledger, deadline, storeCall);
  return ledger.summarize(published, pending);
}

// One batch inside its landing: landed first (if the activation is killed, the relay finds the landing and sends it
// to the retry topic), then run, then settled. With no landing there is no work, since a kill would lose the batch:
// it goes to the retry topic, which keeps it until the store is back. On the lossless feed nothing is landed: the
// feed fires the batch again until an activation succeeds.

export interface LandedRun {
  report: BatchReport;
  /** Parts the batch was landed in (0 on the lossless feed, or when it could not be landed). */
  landed: number;
}

export async function runLanded(
  step: BatchStep,
  records: DecodedRecord[],
  io: BatchIO,
  lossless: boolean,
  runBatch: (records: DecodedRecord[], io: BatchIO) => Promise<BatchReport>,
): Promise<LandedRun> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const storeCall = storeCallWithin({ at: io.deadline, reserveMs: limits.deadlineReserveMs }, io);
  const landed = lossless
    ? { landing: undefined, failure: undefined }
    : await writeAll(
        io.cloudant,
        step.database,
        inboxDocs({ name: step.name, retryTopic: step.topics.retry }, records, io.deadline),
        storeCall,
      ).then(
        (landing) => ({ landing, failure: undefined }),
        (err: unknown) => ({ landing: undefined, failure: describeError(err) }),
      );
  const { landing } = landed;
  await io.crash?.afterLanding?.();
  const report =
    landing || lossless
      ? await runBatch(records, io)
      : await sendAllToRetry(step, records, io, `the batch could not be landed: ${landed.failure}`);
  return {
    report: await settleLanding(step, io, records, landing, report, storeCall, !lossless),
    landed: landing ? landing.docs.length : 0,
  };
}

/**
 * After the batch: the landing is retired once every record has a home. Records Kafka did not take are parked (kept
 * as the exact records to send) before the landing is retired; if even that fails, the landing stays and the relay
 * re-sends the whole batch after the deadline (the step absorbs what it already applied as duplicates).
 */
async function settleLanding(
  step: BatchStep,
  io: BatchIO,
  records: DecodedRecord[],
  landing: Landing | undefined,
  report: BatchReport,
  storeCall: StoreCall,
  recordCoverage: boolean,
): Promise<BatchReport> {
  const unsent = report.messages.flatMap((message) =>
    message.status === "unsent" && message.record !== undefined ? [message.record] : [],
  );
  if (unsent.length > 0) {
    try {
      const parked = await writeAll(io.cloudant, step.database, parkedDocs(step.name, unsent), storeCall);
      const messages = report.messages.map(({ record: _, ...message }) => message);
      report = { ...report, messages, parkedIn: parked.docs.map((doc) => doc._id) };
    } catch {
      return landing ? { ...report, landingKept: true } : report;
    }
  }
  const done = io.now();
  if (landing) await retireLanding(io.cloudant, step.database, step.name, landing, done, storeCall).catch(() => {});
  else if (recordCoverage) {
    // Sent on without a landing: record the coverage if the store answers now; if not, the coverage audit finds
    // the offsets uncovered later and sends them again (duplicates, absorbed).
    await writeAll(io.cloudant, step.database, [seenDoc(step.name, records, done)], storeCall).catch(() => {});
  }
  return report;
}
