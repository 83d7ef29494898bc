// The outbox relay: an action an alarm trigger runs every minute. It publishes what an activation that died
// between its write and its clear left in an outbox, sends back the landed batches of activations that died and the
// records they parked, audits each step's coverage (lib/step/sweeper.ts), and purges idempotency records past their
// retention window.
// An alarm rather than a `_changes` follower, because an action cannot hold a feed open between activations.
import type { Admin, Kafka, Producer } from "kafkajs";
import { STEP_KIT_PARAMETERS } from "../config/parameters.ts";
import { describeError, statusOf } from "../errors.ts";
import { deadlineFromEnv } from "../idempotency/decide.ts";
import type { Deadline } from "../retry.ts";
import type { Cloudant } from "../store/client.ts";
import { ensureStepIndexes, findExpiredRecords, findStaleOutboxes, writeDocs } from "./documents.ts";
import { clientsFor, type StoreCall, storeCallWithin } from "./io.ts";
import { findLandings, type InboxDoc, type ParkedDoc } from "./landing.ts";
import type { OutgoingRecord } from "./outgoing.ts";
import { clearOutboxes, recordOf, sendWithinDeadline } from "./publish.ts";
import { DEFAULT_ACTIVATION_MS, LOSSLESS_FEED } from "./spec.ts";
import { resendRecord, type SweepReport, type SweptStep, sweepStep } from "./sweeper.ts";

export interface RelaySpec {
  name: string;
  databases: string[];
  /** Outbox entries younger than this are left to the activation that wrote them. */
  graceMs?: number;
  /** Documents handled per database per run. */
  batchSize?: number;
  /** Steps whose coverage the relay audits (each in one of `databases`). */
  steps?: SweptStep[];
  /** How long an uncovered range waits before it is sent again: longer than any activation takes to land a batch. */
  gapGraceMs?: number;
}

export interface RelayIO {
  cloudant: Cloudant;
  kafka: Kafka;
  producer: () => Promise<Producer>;
  /** The namespace of the steps' triggers, whose consumer groups are `/namespace/trigger`. */
  namespace: string;
  now: () => number;
  deadline: number;
  /** Identifies this run in the lease document. */
  holder: string;
}

export interface RelayDatabaseReport {
  database: string;
  published: number;
  stillPending: number;
  /** Records of abandoned batches sent back to their step's retry topic. */
  resent: number;
  /** Parked records (Kafka was unreachable for the step) sent where they were going. */
  unparked: number;
  purged: number;
  /** The coverage audit of each step in the database. */
  coverage?: SweepReport[];
  skipped?: string;
  error?: string;
}

/** Two minutes: longer than an activation of the default limits takes to start and land its batch. */
export const DEFAULT_GAP_GRACE_MS = 120_000;

const LEASE_ID = "relay-lease";

interface LeaseDoc {
  _id: string;
  _rev?: string;
  holder?: string;
  expiresAt?: number;
}
const indexed = new Set<string>();

/**
 * One relay at a time per database: a lease document that expires with the holder's deadline. Two relays would
 * only publish duplicates (consumers absorb them), but the lease keeps the duplicates and the work down.
 */
async function takeLease(cloudant: Cloudant, db: string, io: RelayIO): Promise<string | undefined> {
  const existing = await cloudant.getDocument<LeaseDoc>({ db, docId: LEASE_ID }).then(
    (response) => response.result,
    (err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    },
  );
  if (existing && (existing.expiresAt ?? 0) > io.now() && existing.holder !== io.holder) {
    return `another relay (${existing.holder}) holds the lease until ${new Date(existing.expiresAt ?? 0).toISOString()}`;
  }
  const lease: LeaseDoc = {
    _id: LEASE_ID,
    ...(existing?._rev ? { _rev: existing._rev } : {}),
    holder: io.holder,
    expiresAt: io.deadline,
  };
  const results = await writeDocs(cloudant, db, [lease]);
  return results.get(LEASE_ID)?.ok ? undefined : "another relay took the lease first";
}

async function send(io: RelayIO, records: OutgoingRecord[], deadline: Deadline): Promise<void> {
  await sendWithinDeadline(io.producer, records, deadline, { now: io.now });
}

/** Gives the lease back, if it is still this run's: the next run need not wait for this one's deadline. */
async function releaseLease(cloudant: Cloudant, db: string, io: RelayIO, storeCall: StoreCall): Promise<void> {
  const lease = await storeCall(() => cloudant.getDocument<LeaseDoc>({ db, docId: LEASE_ID }));
  const held = lease.result;
  if (held.holder === io.holder) await storeCall(() => writeDocs(cloudant, db, [{ ...held, expiresAt: 0 }]));
}

/** Outbox entries older than the grace period: their activation died between its write and its publish. */
async function publishStale(spec: RelaySpec, db: string, io: RelayIO, report: RelayDatabaseReport, call: StoreCall) {
  const limit = spec.batchSize ?? 500;
  const stale = await call(() => findStaleOutboxes(io.cloudant, db, io.now() - (spec.graceMs ?? 30_000), limit));
  const entries = stale.flatMap((doc) => doc.outbox);
  if (entries.length === 0) return;
  await send(io, entries.map(recordOf), { at: io.deadline, reserveMs: 2_000 });
  report.published = entries.length;
  const ids = new Set(entries.map((entry) => entry.event.id));
  report.stillPending = await clearOutboxes(io.cloudant, db, stale, ids, call);
}

/**
 * Batches whose activation died before finishing go back to the step through its retry topic; parked records go
 * where they were going. A re-sent landing stays as a `seen` record of the offsets it covers; parked ones go.
 */
async function sendLandings(spec: RelaySpec, db: string, io: RelayIO, report: RelayDatabaseReport, call: StoreCall) {
  const limit = spec.batchSize ?? 500;
  const landings = await call(() => findLandings(io.cloudant, db, io.now() - (spec.graceMs ?? 30_000), limit));
  const deadline = { at: io.deadline, reserveMs: 2_000 };
  const unpark = async (parked: ParkedDoc) => {
    await send(io, parked.records, deadline);
    report.unparked += parked.records.length;
    return { _id: parked._id, _rev: parked._rev, _deleted: true };
  };
  const resend = async ({ records, ...rest }: InboxDoc) => {
    await send(
      io,
      records.map((record) => resendRecord(rest, record)),
      deadline,
    );
    report.resent += records.length;
    return { ...rest, kind: "seen", at: io.now() };
  };
  for (const landing of landings) {
    const after = landing.kind === "parked" ? await unpark(landing) : await resend(landing);
    const written = await call(() => writeDocs(io.cloudant, db, [after]));
    if (!written.get(landing._id)?.ok) report.stillPending += 1;
  }
}

async function purgeExpired(spec: RelaySpec, db: string, io: RelayIO, report: RelayDatabaseReport, call: StoreCall) {
  const expired = await call(() => findExpiredRecords(io.cloudant, db, io.now(), spec.batchSize ?? 500));
  if (expired.length === 0) return;
  const tombstones = expired.map((doc) => ({ _id: doc._id, _rev: doc._rev, _deleted: true }));
  const deleted = await call(() => writeDocs(io.cloudant, db, tombstones));
  report.purged = [...deleted.values()].filter((result) => result.ok).length;
}

const emptyReport = (database: string): RelayDatabaseReport => ({
  database,
  published: 0,
  stillPending: 0,
  resent: 0,
  unparked: 0,
  purged: 0,
});

async function relayDatabase(spec: RelaySpec, db: string, io: RelayIO, admin: () => Promise<Admin>) {
  const report = emptyReport(db);
  const storeCall = storeCallWithin({ at: io.deadline, reserveMs: 2_000 }, io);
  if (!indexed.has(db)) {
    await storeCall(() => ensureStepIndexes(io.cloudant, db));
    indexed.add(db);
  }
  const skipped = await storeCall(() => takeLease(io.cloudant, db, io));
  if (skipped) return { ...report, skipped };
  try {
    await publishStale(spec, db, io, report, storeCall);
    await sendLandings(spec, db, io, report, storeCall);
    const steps = (spec.steps ?? []).filter((step) => step.database === db);
    if (steps.length > 0) {
      const sweepIO = { ...io, admin: await admin(), store: storeCall };
      const grace = spec.gapGraceMs ?? DEFAULT_GAP_GRACE_MS;
      report.coverage = [];
      for (const step of steps) report.coverage.push(await sweepStep(step, sweepIO, grace, io.deadline));
    }
    await purgeExpired(spec, db, io, report, storeCall);
  } finally {
    await releaseLease(io.cloudant, db, io, storeCall).catch(() => undefined);
  }
  return report;
}

export function defineOutboxRelay(definition: RelaySpec) {
  let spec = definition;
  const run = async (io: RelayIO) => {
    const started = io.now();
    const databases: RelayDatabaseReport[] = [];
    let connected: Admin | undefined;
    const admin = async () => {
      if (!connected) {
        const client = io.kafka.admin();
        await client.connect();
        connected = client;
      }
      return connected;
    };
    for (const db of spec.databases) {
      databases.push(
        await relayDatabase(spec, db, io, admin).catch((err: unknown) => ({
          ...emptyReport(db),
          error: describeError(err),
        })),
      );
    }
    await connected?.disconnect().catch(() => undefined);
    const failed = databases.filter((d) => d.error);
    console.log(
      JSON.stringify({
        relay: spec.name,
        activation: process.env.__OW_ACTIVATION_ID,
        databases,
        durationMs: io.now() - started,
      }),
    );
    return failed.length > 0
      ? { error: { relay: spec.name, message: "some databases failed", databases } }
      : { relay: spec.name, databases };
  };
  const main = async (params: Record<string, unknown>) => {
    try {
      const clients = clientsFor(params);
      const grace = Number(params[STEP_KIT_PARAMETERS.relayGapGraceMs]);
      if (grace > 0) spec = { ...spec, gapGraceMs: grace };
      // The lossless feed commits only what an activation settled: there are no gaps to audit.
      if (params[STEP_KIT_PARAMETERS.feed] === LOSSLESS_FEED) spec = { ...spec, steps: [] };
      const now = Date.now;
      return await run({
        cloudant: clients.cloudant,
        kafka: clients.kafka,
        producer: clients.producer,
        namespace: process.env.__OW_NAMESPACE ?? "guest",
        now,
        deadline: deadlineFromEnv(process.env, now, DEFAULT_ACTIVATION_MS),
        holder: process.env.__OW_ACTIVATION_ID ?? `pid-${process.pid}`,
      });
    } catch (err) {
      return { error: { relay: spec.name, message: describeError(err) } };
    }
  };
  return { spec, run, main };
}
