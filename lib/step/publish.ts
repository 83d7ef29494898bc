// After the write: one producer call for the outboxes, dead letters and retries, then the outboxes are cleared.
import type { Producer } from "kafkajs";
import { describeError } from "../errors.ts";
import type { Cloudant } from "../store/client.ts";
import type { OutboxDoc, OutboxEntry, StepDoc } from "./documents.ts";
import { withoutPublished } from "./documents.ts";
import type { BatchLedger } from "./ledger.ts";
import { recordOf, sendWithinDeadline } from "./outgoing.ts";
import { readDocs, writeDocs } from "./store-io.ts";
import type { Deadline } from "./transient.ts";

export interface PublishIO {
  cloudant: Cloudant;
  producer: () => Promise<Producer>;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  afterPublish?: () => void | Promise<void>;
}

export type StoreCall = <T>(fn: () => Promise<T>) => Promise<T>;

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
