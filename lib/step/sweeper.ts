// The coverage audit, run by the relay: for each step and each topic its triggers consume, the offsets the feed has
// committed (the trigger's consumer group, `/namespace/trigger`) against the offsets the step has covered (its
// landings and `seen` records). An uncovered range is a batch OpenWhisk accepted but no activation landed; once it
// has stayed uncovered for a grace period (longer than any activation takes to land its batch), its records are
// read back from Kafka and sent to the step's retry topic, one attempt more than they had. Records the provider
// skipped because they are larger than its fire limit go to the dead-letter topic instead: no feed can carry them.
import type { Admin, Kafka, Producer } from "kafkajs";
import { decodeValue } from "../feed/decode.ts";
import { committedOffsets, readRange } from "../kafka/read-range.ts";
import type { Cloudant } from "../store/client.ts";
import { unwrapRetries } from "./classify.ts";
import { type Gap, gapsIn, mergeRuns, partitionKey, piecesOf, type Runs, type TimedGap } from "./coverage.ts";
import { deadLetterRecord, retryRecord } from "./failures.ts";
import { findCoverage, type InboxDoc, type LandedRecord } from "./inbox.ts";
import { type OutgoingRecord, sendRecords } from "./outgoing.ts";
import { readDocs, writeDocs } from "./store-io.ts";
import { isTransientKafkaError, retryWithinDeadline } from "./transient.ts";

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
}

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
  const coverage = await findCoverage(io.cloudant, step.database, step.name);
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
  const state = await readState(io.cloudant, step.database, step.name);
  const { runs, committed } = await observe(step, io);
  let uncovered = 0;
  for (const [key, end] of committed) {
    const list = runs.get(key) ?? [];
    for (const gap of gapsIn(startOf(state.partitions[key], list, end), end, list)) uncovered += gap.to - gap.from + 1;
  }
  return uncovered;
}

/** Reads an uncovered range back from Kafka and sends it on; returns what happened to its offsets. */
async function sendOn(step: SweptStep, io: SweepIO, key: string, gap: Gap) {
  const [topic, partitionText] = [key.slice(0, key.lastIndexOf(":")), key.slice(key.lastIndexOf(":") + 1)];
  const partition = Number(partitionText);
  const { records, earliest } = await readRange(io.kafka, topic, partition, gap.from, gap.to);
  const out: OutgoingRecord[] = [];
  let deadLettered = 0;
  for (const record of records) {
    const origin = { topic, partition, offset: String(record.offset), key: record.key?.toString("utf8") ?? null };
    const value = record.value?.toString("utf8") ?? null;
    if (value !== null && Buffer.byteLength(value) > FEED_PAYLOAD_LIMIT) {
      deadLettered += 1;
      out.push(
        deadLetterRecord(step.deadLetterTopic, {
          step: step.name,
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
  if (out.length > 0) await sendRecords(await io.producer(), out, 10_000);
  const gone = Math.max(0, Math.min(gap.to + 1, earliest) - gap.from);
  return { resent: out.length - deadLettered, deadLettered, gone };
}

/** One audit of one step: uncovered ranges past their grace are sent on, covered ones folded into the state. */
export async function sweepStep(step: SweptStep, io: SweepIO, graceMs: number): Promise<SweepReport> {
  const report: SweepReport = { step: step.name, waiting: 0, resent: 0, deadLettered: 0, gone: 0, folded: 0 };
  const state = await readState(io.cloudant, step.database, step.name);
  const { coverage, runs, committed } = await observe(step, io);
  const now = io.now();
  for (const [key, end] of committed) {
    const list = runs.get(key) ?? [];
    const previous = state.partitions[key];
    const start = startOf(previous, list, end);
    const open: TimedGap[] = [];
    for (const gap of gapsIn(start, end, list)) {
      for (const piece of piecesOf(gap, previous?.gaps ?? [], now)) {
        if (now - piece.since < graceMs) {
          open.push(piece);
          report.waiting += piece.to - piece.from + 1;
          continue;
        }
        const sent = await sendOn(step, io, key, piece);
        report.resent += sent.resent;
        report.deadLettered += sent.deadLettered;
        report.gone += sent.gone;
      }
    }
    // Everything below the first range still waiting is covered or sent on.
    const first = open[0];
    state.partitions[key] = first ? { next: first.from, gaps: open } : { next: Math.max(start, end) };
  }
  // A `seen` record below `next` on every audited partition it covers has been folded into the state.
  const folded = coverage.filter(
    (doc) =>
      doc.kind === "seen" &&
      Object.entries(doc.covers ?? {}).every(([key, list]) => {
        const audited = state.partitions[key];
        return !audited || mergeRuns(list).every(([, to]) => to < audited.next);
      }),
  );
  const results = await writeDocs(io.cloudant, step.database, [
    state as never,
    ...folded.map((doc) => ({ _id: doc._id, _rev: doc._rev, _deleted: true }) as never),
  ]);
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
  await writeDocs(cloudant, step.database, [state as never]);
}
