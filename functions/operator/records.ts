// The command side's one write: a command document, holding what the operator asked and the event it causes (in
// the document's outbox, as the step kit keeps events), created once under an id derived from the request; then
// the event is published and the outbox cleared. A retried request finds the document: nothing new is written and
// the same event, byte for byte, is published at most once more. The outbox relay (functions/relay.ts) scans
// every service database by `outboxSince`, so an event whose publication failed here still goes out later.
import {
  GaveUp,
  isTransientStoreError,
  MissingDatabase,
  type OutboxDoc,
  publishOutbox,
  retryWithinDeadline,
  type StepClients,
  type StoreCall,
} from "../../lib/step/tools.ts";
import { Unavailable, withTimeout } from "./http.ts";

export interface CommandDoc extends OutboxDoc {
  kind: "operator-request" | "operator-cancel" | "operator-restock";
  /** What the operator asked, as validated: a retry under the same id must ask the same. */
  request: Record<string, unknown>;
  recordedAt: string;
  eventId: string;
}

/** How long a component keeps trying the store before it answers 503, and the most one request may take. */
const STORE_BUDGET_MS = 5_000;
const STORE_CALL_TIMEOUT_MS = 4_000;
const KAFKA_SEND_TIMEOUT_MS = 10_000;

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
  try {
    return await publishOutbox(clients, db, doc, store, KAFKA_SEND_TIMEOUT_MS);
  } catch (err) {
    throw new Unavailable("kafka", err, retryHint);
  }
}
