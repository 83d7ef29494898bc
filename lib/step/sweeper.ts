// The coverage audit, run by the relay: for each step and each topic its triggers consume, the offsets the feed has
// committed (the trigger's consumer group, `/namespace/trigger`) against the offsets the step has covered (its
// landings and `seen` records). An uncovered range is a batch OpenWhisk accepted but no activation landed; once it
// has stayed uncovered for a grace period (longer than any activation takes to land its batch), its records are
// read back from Kafka and sent to the step's retry topic, one attempt more than they had. Records the provider
// skipped because they are larger than its fire limit go to the dead-letter topic instead: no feed can carry them.

import type { Admin, Kafka, Producer } from "kafkajs";
import { decodeValue } from "../feed/decode.ts";
import { committedOffsets, readRange } from "../kafka/read-range.ts";
import { isTransientKafkaError, retryWithinDeadline } from "../retry.ts";
import type { Cloudant } from "../store/client.ts";
import { unwrapRetries } from "./classify.ts";
import { type Gap, gapsIn, mergeRuns, partitionKey, piecesOf, type Runs, type TimedGap } from "./coverage.ts";
import { readDocs, StoreWriteFailed, writeDocs } from "./documents.ts";
import { findCoverage, type InboxDoc, type LandedRecord } from "./landing.ts";
import { deadLetterRecord, retryRecord } from "./letters.ts";
import type { OutgoingRecord } from "./outgoing.ts";
import { sendRecords } from "./publish.ts";

/** A step as the audit sees it: where its coverage lives, and the topics and triggers that feed it. */
export interface SweptStep {
  name: string;
  database: string;
  retryTopic: string;
  deadLetterTopic: string;
  sources: { topic: string; trigger: string }[];
}

interface PartitionState {
  /** Every offset below this is covered or was sent on. */
  next: number;
  /** The uncovered ranges above `next`, each with when it was first seen. */
  gaps?: TimedGap[];
}

/** The audit's state per step: one document, written only by the relay that holds the database's lease. */
interface CoverageState {
  _id: string;
  _rev?: string;
  kind: "coverage";
  step: string;
  partitions: Record<string, PartitionState>;
}

export interface SweepReport {
  step: string;
  /** Uncovered offsets waiting for their grace period to pass. */
  waiting: number;
  /** Records read back from Kafka and sent to the retry topic. */
  resent: number;
  /** Records too large for any fire, sent to the dead-letter topic. */
  deadLettered: number;
  /** Offsets that Kafka no longer had (retention deleted them before the audit saw the gap). */
  gone: number;
  /** `seen` records folded into the state and deleted. */
  folded: number;
}

export interface SweepIO {
  cloudant: Cloudant;
  kafka: Kafka;
  admin: Admin;
  producer: () => Promise<Producer>;
  now: () => number;
  /** The OpenWhisk namespace of the triggers (their consumer groups are `/namespace/trigger`). */
  namespace: string;
  /** Store calls retried while the store answers 429 or 5xx or not at all. */
  store?: <T>(fn: () => Promise<T>) => Promise<T>;
}

const direct = <T>(fn: () => Promise<T>) => fn();

/** The feed's cap on a fire (the provider's PAYLOAD_LIMIT): a record larger than this is never fired. */
export const FEED_PAYLOAD_LIMIT = 900_000;

const stateId = (step: string) => `coverage:${step}`;

/**
 * A record of a batch no activation finished, back to its step's retry topic: one attempt more than it had, so that
 * a batch that kills every activation ends as dead letters instead of going round forever.
 */
export function resendRecord(inbox: Pick<InboxDoc, "step" | "retryTopic">, record: LandedRecord): OutgoingRecord {
  const decoded = decodeValue(record.value);
  const inner = decoded.ok ? unwrapRetries(decoded.value) : { value: record.value, attempt: 1 };
  return retryRecord(inbox.retryTopic, record.key, {
    step: inbox.step,
    attempt: inner.attempt + 1,
    reason: "its activation ended before finishing the batch, or never ran",
    notBefore: 0,
    value: inner.value,
  });
}

async function readState(cloudant: Cloudant, db: string, step: string): Promise<CoverageState> {
  const found = await readDocs<CoverageState>(cloudant, db, [stateId(step)]);
  return found.get(stateId(step)) ?? { _id: stateId(step), kind: "coverage", step, partitions: {} };
}

/** Each partition's committed offset and what covers it, per "topic:partition". */
async function observe(step: SweptStep, io: SweepIO) {
  const store = io.store ?? direct;
  const coverage = await store(() => findCoverage(io.cloudant, step.database, step.name));
  const runs = new Map<string, Runs>();
  for (const doc of coverage)
    for (const [key, list] of Object.entries(doc.covers ?? {})) runs.set(key, [...(runs.get(key) ?? []), ...list]);
  const committed = new Map<string, number>();
  for (const source of step.sources) {
    const group = `/${io.namespace}/${source.trigger}`;
    for (const [partition, offset] of await committedOffsets(io.admin, group, source.topic))
      committed.set(partitionKey(source.topic, partition), offset);
  }
  return { coverage, runs, committed };
}

/** Where a partition's audit starts: its state, else the first offset covered, else the committed offset. */
const startOf = (state: PartitionState | undefined, runs: Runs, committed: number) =>
  state?.next ?? Math.min(mergeRuns(runs)[0]?.[0] ?? committed, committed);

/** The uncovered offsets of a step right now, without acting on them (the quiet check of tests and demos). */
export async function uncoveredOffsets(step: SweptStep, io: SweepIO): Promise<number> {
  const state = await (io.store ?? direct)(() => readState(io.cloudant, step.database, step.name));
  const { runs, committed } = await observe(step, io);
  let uncovered = 0;
  for (const [key, end] of committed) {
    const list = runs.get(key) ?? [];
    for (const gap of gapsIn(startOf(state.partitions[key], list, end), end, list)) uncovered += gap.to - gap.from + 1;
  }
  return uncovered;
}

/**
 * Reads the due ranges of one partition back from Kafka, with one read from the first to the last, and sends their
 * records on; returns what happened to their offsets.
 */
async function sendOn(step: SweptStep, io: SweepIO, key: string, due: Gap[]) {
  const [topic, partitionText] = [key.slice(0, key.lastIndexOf(":")), key.slice(key.lastIndexOf(":") + 1)];
  const partition = Number(partitionText);
  const from = Math.min(...due.map((gap) => gap.from));
  const to = Math.max(...due.map((gap) => gap.to));
  const { records, earliest } = await readRange(io.kafka, topic, partition, from, to);
  const wanted = records.filter((record) => due.some((gap) => record.offset >= gap.from && record.offset <= gap.to));
  const out: OutgoingRecord[] = [];
  let deadLettered = 0;
  for (const record of wanted) {
    const origin = { topic, partition, offset: String(record.offset), key: record.key?.toString("utf8") ?? null };
    const value = record.value?.toString("utf8") ?? null;
    if (value !== null && Buffer.byteLength(value) > FEED_PAYLOAD_LIMIT) {
      deadLettered += 1;
      out.push(
        deadLetterRecord(step.deadLetterTopic, {
          step: step.name,
          retryTopic: step.retryTopic,
          reason: "oversized",
          message: `${Buffer.byteLength(value)} bytes: more than a feed fire carries (${FEED_PAYLOAD_LIMIT}); the provider skipped it`,
          attempts: 1,
          origin,
          record: value,
          failedAt: new Date(io.now()).toISOString(),
        }),
      );
    } else out.push(resendRecord({ step: step.name, retryTopic: step.retryTopic }, { origin, key: origin.key, value }));
  }
  // Sent in slices: a backlog of a whole topic would not fit in one producer request.
  for (let i = 0; i < out.length; i += 500) await sendRecords(await io.producer(), out.slice(i, i + 500), 10_000);
  const gone = due.reduce((sum, gap) => sum + Math.max(0, Math.min(gap.to + 1, earliest) - gap.from), 0);
  return { resent: out.length - deadLettered, deadLettered, gone };
}

/** Time kept in hand at the end of the relay's activation: a partition not started by then waits for the next run. */
const SWEEP_RESERVE_MS = 10_000;

/**
 * One audit of one step: uncovered ranges past their grace are sent on, covered ones folded into the state. The
 * state is saved after each partition, so a relay that runs out of time (a large backlog) keeps what it did, and
 * the next run goes on from there instead of sending the same ranges again.
 */
export async function sweepStep(
  step: SweptStep,
  io: SweepIO,
  graceMs: number,
  deadline = Number.POSITIVE_INFINITY,
): Promise<SweepReport> {
  const report: SweepReport = { step: step.name, waiting: 0, resent: 0, deadLettered: 0, gone: 0, folded: 0 };
  const store = io.store ?? direct;
  const state = await store(() => readState(io.cloudant, step.database, step.name));
  const save = async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const results = await store(() => writeDocs(io.cloudant, step.database, [state]));
      const saved = results.get(state._id);
      if (saved?.ok) {
        state._rev = saved.rev;
        return;
      }
      // Only the lease holder writes this document: a conflict means our own write landed and its answer was lost.
      if (!saved?.conflict)
        throw new StoreWriteFailed(`saving the coverage of ${step.name} failed: ${saved?.reason ?? "no answer"}`);
      state._rev = (await store(() => readState(io.cloudant, step.database, step.name)))._rev;
    }
    throw new StoreWriteFailed(`saving the coverage of ${step.name}: conflicts persisted`);
  };
  const { coverage, runs, committed } = await observe(step, io);
  const now = io.now();
  for (const [key, end] of committed) {
    const list = runs.get(key) ?? [];
    const previous = state.partitions[key];
    const start = startOf(previous, list, end);
    const open: TimedGap[] = [];
    const due: TimedGap[] = [];
    for (const gap of gapsIn(start, end, list)) {
      for (const piece of piecesOf(gap, previous?.gaps ?? [], now))
        (now - piece.since < graceMs ? open : due).push(piece);
    }
    if (due.length > 0) {
      if (io.now() > deadline - SWEEP_RESERVE_MS) {
        report.waiting += [...due, ...open].reduce((sum, gap) => sum + gap.to - gap.from + 1, 0);
        continue;
      }
      const sent = await sendOn(step, io, key, due);
      report.resent += sent.resent;
      report.deadLettered += sent.deadLettered;
      report.gone += sent.gone;
    }
    report.waiting += open.reduce((sum, gap) => sum + gap.to - gap.from + 1, 0);
    // Everything below the first range still waiting is covered or sent on.
    const first = open[0];
    state.partitions[key] = first ? { next: first.from, gaps: open } : { next: Math.max(start, end) };
    if (due.length > 0) await save();
  }
  await save();
  // A `seen` record below `next` on every audited partition it covers has been folded into the state.
  const folded = coverage.filter(
    (doc) =>
      doc.kind === "seen" &&
      Object.entries(doc.covers ?? {}).every(([key, list]) => {
        const audited = state.partitions[key];
        return !audited || mergeRuns(list).every(([, to]) => to < audited.next);
      }),
  );
  const tombstones = folded.map((doc) => ({ _id: doc._id, _rev: doc._rev, _deleted: true }));
  const results = await store(() => writeDocs(io.cloudant, step.database, tombstones));
  report.folded = folded.filter((doc) => results.get(doc._id)?.ok).length;
  return report;
}

/**
 * Where the audit starts for a step: every offset already on its topics is not its business. Written when the
 * system is provisioned, before the triggers exist, so that even the first batch a dead activation leaves is found.
 */
export async function startCoverage(step: SweptStep, cloudant: Cloudant, admin: Admin): Promise<void> {
  const state = await readState(cloudant, step.database, step.name);
  if (state._rev) return;
  for (const source of step.sources) {
    // Fresh topics answer "not the leader" for a moment.
    const offsets = await retryWithinDeadline(() => admin.fetchTopicOffsets(source.topic), {
      deadline: { at: Date.now() + 30_000, reserveMs: 0 },
      now: Date.now,
      isTransient: isTransientKafkaError,
    });
    for (const { partition, high } of offsets)
      state.partitions[partitionKey(source.topic, partition)] = { next: Number(high) };
  }
  await writeDocs(cloudant, step.database, [state]);
}
