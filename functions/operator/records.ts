// The command side's one write: a command document, holding what the operator asked and the event it causes (in
// the document's outbox, as the step kit keeps events), created once under an id derived from the request; then
// the event is published and the outbox cleared. A retried request finds the document: nothing new is written and
// the same event, byte for byte, is published at most once more. The outbox relay (functions/relay.ts) scans
// every service database by `outboxSince`, so an event whose publication failed here still goes out later.
import type { StepClients } from "../../lib/step/clients.ts";
import type { OutboxEntry, StepDoc } from "../../lib/step/documents.ts";
import { sendRecords } from "../../lib/step/outgoing.ts";
import { clearOutboxes } from "../../lib/step/publish.ts";
import { MissingDatabase, readDocs, writeDocs } from "../../lib/step/store-io.ts";
import { GaveUp, isTransientStoreError, retryWithinDeadline } from "../../lib/step/transient.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { Unavailable, withTimeout } from "./http.ts";

export interface CommandDoc {
  _id: string;
  _rev?: string;
  kind: "operator-request" | "operator-cancel" | "operator-restock";
  /** What the operator asked, as validated: a retry under the same id must ask the same. */
  request: Record<string, unknown>;
  recordedAt: string;
  eventId: string;
  outbox: OutboxEntry[];
  /** Set while the event is unpublished: the relay's index. */
  outboxSince?: number;
}

/** How long a component keeps trying the store before it answers 503, and the most one request may take. */
const STORE_BUDGET_MS = 5_000;
const STORE_CALL_TIMEOUT_MS = 4_000;
const KAFKA_SEND_TIMEOUT_MS = 10_000;

export type StoreCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** Store calls retried while they fail transiently, within a budget; then Unavailable (503). */
export function storeCaller(now: () => number = Date.now): StoreCall {
  const deadline = { at: now() + STORE_BUDGET_MS, reserveMs: 0 };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await retryWithinDeadline(() => withTimeout(fn(), STORE_CALL_TIMEOUT_MS, "store request"), {
        deadline,
        now,
        isTransient: (err) => !(err instanceof MissingDatabase) && isTransientStoreError(err),
      });
    } catch (err) {
      if (err instanceof GaveUp) throw new Unavailable("store", err.lastError);
      throw err;
    }
  };
}

export async function readCommand(cloudant: Cloudant, db: string, id: string, store: StoreCall) {
  const found = await store(() => readDocs<StepDoc>(cloudant, db, [id]));
  return found.get(id) as unknown as CommandDoc | undefined;
}

/** Creates the document, or returns the one already recorded under its id (a retried request). */
export async function recordOnce(
  cloudant: Cloudant,
  db: string,
  doc: CommandDoc,
  store: StoreCall,
): Promise<{ doc: CommandDoc; replayed: boolean }> {
  const written = await store(() => writeDocs(cloudant, db, [doc as unknown as StepDoc]));
  const outcome = written.get(doc._id);
  if (outcome?.ok) return { doc: { ...doc, _rev: outcome.rev }, replayed: false };
  if (outcome && !outcome.conflict) throw new Error(`recording ${doc._id} in ${db} failed: ${outcome.reason}`);
  const existing = await readCommand(cloudant, db, doc._id, store);
  if (!existing) throw new Error(`recording ${doc._id} in ${db}: a conflict, then no document`);
  return { doc: existing, replayed: true };
}

/**
 * Publishes the recorded event unless it already was (empty outbox), then clears the outbox. Kafka failing is
 * Unavailable; a failed clear is left to the relay, which publishes the same event again (consumers absorb it).
 */
export async function publishRecorded(
  clients: StepClients,
  db: string,
  doc: CommandDoc,
  store: StoreCall,
  retryHint: string,
): Promise<boolean> {
  if (doc.outbox.length === 0) return false;
  try {
    const producer = await clients.producer();
    await sendRecords(
      producer,
      doc.outbox.map((entry) => ({ topic: entry.topic, key: entry.key, value: JSON.stringify(entry.event) })),
      KAFKA_SEND_TIMEOUT_MS,
    );
  } catch (err) {
    throw new Unavailable("kafka", err, retryHint);
  }
  await clearOutboxes(
    clients.cloudant,
    db,
    [doc as unknown as StepDoc],
    new Set(doc.outbox.map((entry) => entry.event.id)),
    store,
  );
  return true;
}
