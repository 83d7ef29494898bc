// The outbox relay: an action an alarm trigger runs every minute. It publishes what an activation that died
// between its write and its clear left in an outbox, and purges idempotency records past their retention window.
// An alarm rather than a `_changes` follower, because an action cannot hold a feed open between activations.
import type { Producer } from "kafkajs";
import { decodeValue } from "../feed/decode.ts";
import { deadlineFromEnv } from "../idempotency/decide.ts";
import type { Cloudant } from "../store/client.ts";
import { unwrapRetries } from "./classify.ts";
import { clientsFor } from "./clients.ts";
import { retryRecord } from "./failures.ts";
import { findLandings, type InboxDoc, type LandedRecord, type ParkedDoc } from "./inbox.ts";
import { type OutgoingRecord, sendRecords } from "./outgoing.ts";
import { DEFAULT_ACTIVATION_MS } from "./parameters.ts";
import { clearOutboxes } from "./publish.ts";
import { ensureStepIndexes, findExpiredRecords, findStaleOutboxes, writeDocs } from "./store-io.ts";
import {
  type Deadline,
  describeError,
  isTransientKafkaError,
  isTransientStoreError,
  retryWithinDeadline,
} from "./transient.ts";

export interface RelaySpec {
  name: string;
  databases: string[];
  /** Outbox entries younger than this are left to the activation that wrote them. */
  graceMs?: number;
  /** Documents handled per database per run. */
  batchSize?: number;
}

export interface RelayIO {
  cloudant: Cloudant;
  producer: () => Promise<Producer>;
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
  skipped?: string;
  error?: string;
}

const LEASE_ID = "relay-lease";
const indexed = new Set<string>();

/**
 * One relay at a time per database: a lease document that expires with the holder's deadline. Two relays would
 * only publish duplicates (consumers absorb them), but the lease keeps the duplicates and the work down.
 */
async function takeLease(cloudant: Cloudant, db: string, io: RelayIO): Promise<string | undefined> {
  const existing = await cloudant.getDocument({ db, docId: LEASE_ID }).then(
    (response) => response.result as { _rev?: string; holder?: string; expiresAt?: number },
    (err: unknown) => {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    },
  );
  if (existing && (existing.expiresAt ?? 0) > io.now() && existing.holder !== io.holder) {
    return `another relay (${existing.holder}) holds the lease until ${new Date(existing.expiresAt ?? 0).toISOString()}`;
  }
  const results = await writeDocs(cloudant, db, [
    {
      _id: LEASE_ID,
      ...(existing?._rev ? { _rev: existing._rev } : {}),
      holder: io.holder,
      expiresAt: io.deadline,
    } as never,
  ]);
  return results.get(LEASE_ID)?.ok ? undefined : "another relay took the lease first";
}

/**
 * A record of a batch whose activation died, back to its step's retry topic: one attempt more than it had, so that a
 * batch that kills every activation ends as dead letters instead of going round forever.
 */
export function resendRecord(inbox: Pick<InboxDoc, "step" | "retryTopic">, record: LandedRecord): OutgoingRecord {
  const decoded = decodeValue(record.value);
  const inner = decoded.ok ? unwrapRetries(decoded.value) : { value: record.value, attempt: 1 };
  return retryRecord(inbox.retryTopic, record.key, {
    step: inbox.step,
    attempt: inner.attempt + 1,
    reason: "its activation ended before finishing the batch",
    notBefore: 0,
    value: inner.value,
  });
}

async function send(io: RelayIO, records: OutgoingRecord[], deadline: Deadline): Promise<void> {
  if (records.length === 0) return;
  // A broker that restarts comes back within seconds: keep trying within the deadline rather than wait a tick.
  await retryWithinDeadline(async () => sendRecords(await io.producer(), records, 10_000), {
    deadline,
    now: io.now,
    isTransient: isTransientKafkaError,
  });
}

async function relayDatabase(spec: RelaySpec, db: string, io: RelayIO): Promise<RelayDatabaseReport> {
  const report: RelayDatabaseReport = {
    database: db,
    published: 0,
    stillPending: 0,
    resent: 0,
    unparked: 0,
    purged: 0,
  };
  const deadline = { at: io.deadline, reserveMs: 2_000 };
  const storeCall = <T>(fn: () => Promise<T>) =>
    retryWithinDeadline(fn, { deadline, now: io.now, isTransient: isTransientStoreError });
  if (!indexed.has(db)) {
    await storeCall(() => ensureStepIndexes(io.cloudant, db));
    indexed.add(db);
  }
  const skipped = await storeCall(() => takeLease(io.cloudant, db, io));
  if (skipped) return { ...report, skipped };
  const limit = spec.batchSize ?? 500;
  const stale = await storeCall(() => findStaleOutboxes(io.cloudant, db, io.now() - (spec.graceMs ?? 30_000), limit));
  const entries = stale.flatMap((doc) => doc.outbox);
  if (entries.length > 0) {
    await send(
      io,
      entries.map((entry) => ({ topic: entry.topic, key: entry.key, value: JSON.stringify(entry.event) })),
      deadline,
    );
    report.published = entries.length;
    report.stillPending = await clearOutboxes(
      io.cloudant,
      db,
      stale,
      new Set(entries.map((entry) => entry.event.id)),
      storeCall,
    );
  }
  // Batches whose activation died before finishing go back to the step through its retry topic; parked records
  // go where they were going. Each landing is deleted once its records are sent.
  const landings = await storeCall(() => findLandings(io.cloudant, db, io.now() - (spec.graceMs ?? 30_000), limit));
  for (const landing of landings) {
    const records =
      landing.kind === "parked"
        ? (landing as ParkedDoc).records
        : (landing as InboxDoc).records.map((record) => resendRecord(landing as InboxDoc, record));
    await send(io, records, deadline);
    if (landing.kind === "parked") report.unparked += records.length;
    else report.resent += records.length;
    const deleted = await storeCall(() =>
      writeDocs(io.cloudant, db, [{ _id: landing._id, _rev: landing._rev, _deleted: true } as never]),
    );
    if (!deleted.get(landing._id)?.ok) report.stillPending += 1;
  }
  const expired = await storeCall(() => findExpiredRecords(io.cloudant, db, io.now(), limit));
  if (expired.length > 0) {
    const deleted = await storeCall(() =>
      writeDocs(
        io.cloudant,
        db,
        expired.map((doc) => ({ _id: doc._id, _rev: doc._rev, _deleted: true }) as never),
      ),
    );
    report.purged = [...deleted.values()].filter((result) => result.ok).length;
  }
  await storeCall(() => io.cloudant.getDocument({ db, docId: LEASE_ID })).then(
    (lease) => writeDocs(io.cloudant, db, [{ ...(lease.result as object), expiresAt: 0 } as never]),
    () => undefined,
  );
  return report;
}

export function defineOutboxRelay(spec: RelaySpec) {
  const run = async (io: RelayIO) => {
    const databases: RelayDatabaseReport[] = [];
    for (const db of spec.databases) {
      databases.push(
        await relayDatabase(spec, db, io).catch((err: unknown) => ({
          database: db,
          published: 0,
          stillPending: 0,
          resent: 0,
          unparked: 0,
          purged: 0,
          error: describeError(err),
        })),
      );
    }
    const failed = databases.filter((d) => d.error);
    console.log(JSON.stringify({ relay: spec.name, activation: process.env.__OW_ACTIVATION_ID, databases }));
    return failed.length > 0
      ? { error: { relay: spec.name, message: "some databases failed", databases } }
      : { relay: spec.name, databases };
  };
  const main = async (params: Record<string, unknown>) => {
    try {
      const clients = clientsFor(params, spec.name);
      const now = Date.now;
      return await run({
        cloudant: clients.cloudant,
        producer: clients.producer,
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
