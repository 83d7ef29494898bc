// After the write: one producer call for the outboxes, dead letters and retries, then the outboxes are cleared.
import type { Producer } from "kafkajs";
import { describeError } from "../errors.ts";
import type { CloudEvent } from "../events/envelope.ts";
import { type Deadline, isTransientKafkaError, retryWithinDeadline } from "../retry.ts";
import type { Cloudant } from "../store/client.ts";
import {
  type OutboxDoc,
  type OutboxEntry,
  readDocs,
  type StepDoc,
  StoreWriteFailed,
  withoutPublished,
  writeDocs,
} from "./documents.ts";
import type { StoreCall } from "./io.ts";
import type { BatchLedger } from "./outcomes.ts";
import type { OutgoingRecord } from "./outgoing.ts";

export interface PublishIO {
  cloudant: Cloudant;
  producer: () => Promise<Producer>;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  afterPublish?: () => void | Promise<void>;
}

/**
 * Publishes the outbox entries this activation added, with the ledger's failure records, then clears them from the
 * written documents. Entries left by an activation that died are the relay's: publishing them here as well would
 * publish them once per concurrent activation. Returns how many entries were published and how many stay.
 */
export async function publishAndClear(
  io: PublishIO,
  database: string,
  written: StepDoc[],
  outbox: OutboxEntry[],
  ledger: BatchLedger,
  deadline: Deadline,
  storeCall: StoreCall,
): Promise<{ published: number; pending: number }> {
  const records = [...outbox.map(recordOf), ...ledger.failures.map((failure) => failure.record)];
  try {
    await sendWithinDeadline(io.producer, records, deadline, io);
  } catch (err) {
    // The outbox stays for the relay; dead letters and retries have nowhere else to go: the answer carries them.
    ledger.markFailuresUnsent(`Kafka: ${describeError(err)}`);
    return { published: 0, pending: outbox.length };
  }
  await io.afterPublish?.();
  if (outbox.length === 0) return { published: 0, pending: 0 };
  const pending = await clearOutboxes(
    io.cloudant,
    database,
    written,
    new Set(outbox.map((e) => e.event.id)),
    storeCall,
  );
  return { published: outbox.length, pending };
}

/** Removes published entries from the outboxes; returns how many published entries could not be cleared. */
export async function clearOutboxes<D extends OutboxDoc>(
  cloudant: Cloudant,
  database: string,
  docs: D[],
  publishedIds: ReadonlySet<string>,
  storeCall: StoreCall,
  rounds = 3,
): Promise<number> {
  const stillListed = (doc: D) => doc.outbox.filter((entry) => publishedIds.has(entry.event.id)).length;
  let toClear = docs.filter((doc) => stillListed(doc) > 0);
  for (let round = 1; toClear.length > 0 && round <= rounds; round += 1) {
    const batch = toClear;
    try {
      const cleared = batch.map((doc) => withoutPublished(doc, publishedIds));
      const results = await storeCall(() => writeDocs(cloudant, database, cleared));
      const conflicted = batch.filter((doc) => results.get(doc._id)?.ok === false);
      if (conflicted.length === 0) return 0;
      // Changed meanwhile (another activation applied an event): clear the fresh version.
      const fresh = await storeCall(() =>
        readDocs<D>(
          cloudant,
          database,
          conflicted.map((doc) => doc._id),
        ),
      );
      toClear = [...fresh.values()].filter((doc) => stillListed(doc) > 0);
    } catch {
      break;
    }
  }
  return toClear.reduce((sum, doc) => sum + stillListed(doc), 0);
}

// Everything a step sends to Kafka in one producer call: outbox events, dead letters and retries; and the one
// mapping from an outbox entry (or an event) to the record that carries it.

/** An outbox entry as the record that carries it: the event as JSON, keyed by the entity it is about. */
export const recordOf = (entry: OutboxEntry): OutgoingRecord => ({
  topic: entry.topic,
  key: entry.key,
  value: JSON.stringify(entry.event),
});

/** Events for one topic, each keyed by its subject. */
export const eventRecords = (topic: string, events: CloudEvent<string, unknown>[]): OutgoingRecord[] =>
  events.map((event) => recordOf({ topic, key: event.subject, event }));

/** Sends the records, trying again while Kafka is away (a restarting broker is back within seconds) until the deadline. */
export async function sendWithinDeadline(
  producer: () => Promise<Producer>,
  records: OutgoingRecord[],
  deadline: Deadline,
  clock: { now: () => number; sleep?: (ms: number) => Promise<void> } = { now: Date.now },
): Promise<void> {
  if (records.length === 0) return;
  await retryWithinDeadline(async () => sendRecords(await producer(), records, 10_000), {
    deadline,
    now: clock.now,
    isTransient: isTransientKafkaError,
    sleep: clock.sleep,
  });
}

/** One sendBatch for the whole batch: the idempotent producer writes each partition's records in order. */
export async function sendRecords(producer: Producer, records: OutgoingRecord[], timeoutMs: number): Promise<void> {
  if (records.length === 0) return;
  const byTopic = new Map<string, { key: string | null; value: string }[]>();
  for (const record of records) {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value });
    byTopic.set(record.topic, messages);
  }
  await producer.sendBatch({
    acks: -1,
    timeout: timeoutMs,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}

// For actions outside the steps that cause an event once (an operator's command, for one): a document holding the
// event in its outbox is created under an id derived from the request, then the outbox is published and cleared.
// A retried request finds the document and publishes the same event, byte for byte, at most once more; whatever
// stays in an outbox the relay publishes later.

export async function readRecorded<D extends OutboxDoc>(
  cloudant: Cloudant,
  db: string,
  id: string,
  store: StoreCall,
): Promise<D | undefined> {
  return (await store(() => readDocs<D>(cloudant, db, [id]))).get(id);
}

/** Creates the document, or returns the one already recorded under its id (a retried request). */
export async function recordOnce<D extends OutboxDoc>(
  cloudant: Cloudant,
  db: string,
  doc: D,
  store: StoreCall,
): Promise<{ doc: D; replayed: boolean }> {
  const written = await store(() => writeDocs(cloudant, db, [doc]));
  const outcome = written.get(doc._id);
  if (outcome?.ok) return { doc: { ...doc, _rev: outcome.rev }, replayed: false };
  if (outcome && !outcome.conflict)
    throw new StoreWriteFailed(`recording ${doc._id} in ${db} failed: ${outcome.reason}`);
  const existing = await readRecorded<D>(cloudant, db, doc._id, store);
  if (!existing) throw new StoreWriteFailed(`recording ${doc._id} in ${db}: a conflict, then no document`);
  return { doc: existing, replayed: true };
}

/**
 * Publishes the document's outbox unless it is empty (published already), then clears it. A failed send throws
 * (the event is not out); a failed clear does not (the relay publishes the event again, and consumers absorb it).
 */
export async function publishOutbox(
  clients: { cloudant: Cloudant; producer: () => Promise<Producer> },
  db: string,
  doc: OutboxDoc,
  store: StoreCall,
  sendTimeoutMs: number,
): Promise<boolean> {
  if (doc.outbox.length === 0) return false;
  await sendRecords(await clients.producer(), doc.outbox.map(recordOf), sendTimeoutMs);
  await clearOutboxes(clients.cloudant, db, [doc], new Set(doc.outbox.map((entry) => entry.event.id)), store);
  return true;
}
