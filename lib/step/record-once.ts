// For actions outside the steps that cause an event once (an operator's command, for one): a document holding the
// event in its outbox is created under an id derived from the request, then the outbox is published and cleared.
// A retried request finds the document and publishes the same event, byte for byte, at most once more; whatever
// stays in an outbox the relay publishes later.

import type { Producer } from "kafkajs";
import type { Cloudant } from "../store/client.ts";
import type { OutboxDoc } from "./documents.ts";
import { recordOf, sendRecords } from "./outgoing.ts";
import { clearOutboxes, type StoreCall } from "./publish.ts";
import { readDocs, StoreWriteFailed, writeDocs } from "./store-io.ts";

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
