// The step's round trips to its database: one bulk read, one bulk write, and a query for the relay.
import type { Cloudant } from "../store/client.ts";
import { statusOf } from "../store/client.ts";
import type { StepDoc, StreamCommitDoc } from "./documents.ts";

export class MissingDatabase extends Error {
  override name = "MissingDatabase";
  constructor(readonly db: string) {
    super(`database ${db} does not exist (create it when deploying: npm run provision, or ensureDatabase)`);
  }
}

function rethrowMissing(db: string, err: unknown): never {
  if (statusOf(err) === 404) throw new MissingDatabase(db);
  throw err;
}

/** One round trip: the current documents with these ids; ids without a live document are absent from the map. */
export async function readDocs<D extends StepDoc>(
  client: Cloudant,
  db: string,
  ids: string[],
): Promise<Map<string, D>> {
  const found = new Map<string, D>();
  if (ids.length === 0) return found;
  const response = await client
    .postAllDocs({ db, keys: [...new Set(ids)], includeDocs: true })
    .catch((err) => rethrowMissing(db, err));
  for (const row of response.result.rows) {
    if (row.id && row.doc && !row.value?.deleted) found.set(row.id, row.doc as unknown as D);
  }
  return found;
}

export type WriteOutcome =
  | { id: string; ok: true; rev: string }
  | { id: string; ok: false; conflict: boolean; reason: string };

/** One round trip: writes every document; each succeeds or fails (409 conflict) on its own, as CouchDB does. */
export async function writeDocs(client: Cloudant, db: string, docs: StepDoc[]): Promise<Map<string, WriteOutcome>> {
  const outcomes = new Map<string, WriteOutcome>();
  if (docs.length === 0) return outcomes;
  const response = await client
    .postBulkDocs({ db, bulkDocs: { docs: docs as never[] } })
    .catch((err) => rethrowMissing(db, err));
  response.result.forEach((result, index) => {
    const id = result.id ?? docs[index]?._id ?? "";
    outcomes.set(
      id,
      result.ok && result.rev
        ? { id, ok: true, rev: result.rev }
        : { id, ok: false, conflict: result.error === "conflict", reason: `${result.error}: ${result.reason ?? ""}` },
    );
  });
  return outcomes;
}

/** Every commit of these streams, in one query, grouped by stream and sorted by sequence. */
export async function readStreams(
  client: Cloudant,
  db: string,
  streams: string[],
): Promise<Map<string, StreamCommitDoc[]>> {
  const byStream = new Map<string, StreamCommitDoc[]>(streams.map((stream) => [stream, []]));
  if (streams.length === 0) return byStream;
  const limit = 10_000;
  const response = await client
    .postFind({ db, selector: { kind: "commit", stream: { $in: [...new Set(streams)] } }, limit })
    .catch((err) => rethrowMissing(db, err));
  const docs = response.result.docs as unknown as StreamCommitDoc[];
  // Streams here are short (a work order has a handful of commits); a longer history needs snapshots.
  if (docs.length >= limit)
    throw new Error(`reading streams returned ${limit} commits or more; snapshots are not implemented`);
  for (const doc of docs) byStream.get(doc.stream)?.push(doc);
  for (const commits of byStream.values()) commits.sort((a, b) => a.seq - b.seq);
  return byStream;
}

/** Documents whose outbox has waited longer than the cutoff: left by an activation that died before publishing. */
export async function findStaleOutboxes(
  client: Cloudant,
  db: string,
  cutoff: number,
  limit: number,
): Promise<StepDoc[]> {
  const response = await client
    .postFind({ db, selector: { outboxSince: { $gt: 0, $lt: cutoff } }, limit })
    .catch((err) => rethrowMissing(db, err));
  return response.result.docs as unknown as StepDoc[];
}

/** Idempotency records past their retention window. */
export async function findExpiredRecords(client: Cloudant, db: string, now: number, limit: number): Promise<StepDoc[]> {
  const response = await client
    .postFind({ db, selector: { kind: "idempotency", expiresAt: { $gt: 0, $lt: now } }, limit })
    .catch((err) => rethrowMissing(db, err));
  return response.result.docs as unknown as StepDoc[];
}

/** The kit's queries and the fields they need indexed: the relay's, the streams', the inboxes'. */
const STEP_INDEXES: Record<string, string[]> = {
  "outbox-since": ["outboxSince"],
  "stream-commits": ["kind", "stream"],
  "inbox-deadline": ["kind", "deadline"],
  "expires-at": ["kind", "expiresAt"],
};

/** Creates the kit's indexes; creating an existing index is a no-op. */
export async function ensureStepIndexes(client: Cloudant, db: string): Promise<void> {
  for (const [name, fields] of Object.entries(STEP_INDEXES)) {
    const index = { fields: fields.map((field) => ({ [field]: "asc" })) } as never;
    await client.postIndex({ db, ddoc: "step-kit", name, index, type: "json" });
  }
}
