// The documents a step keeps in its service's database. The entity's state, the keys of the events already
// applied to it and the events still to publish (the outbox) share one document, so one write commits all three.
import { createHash } from "node:crypto";
import { SagaError, statusOf } from "../errors.ts";
import type { CloudEvent } from "../events/envelope.ts";
import { canonicalJson } from "../idempotency/decide.ts";
import type { Cloudant } from "../store/client.ts";
import type { Memory } from "./spec.ts";

export interface OutboxEntry {
  topic: string;
  /** Kafka key: the entity the event is about, so each entity's events stay in order on one partition. */
  key: string;
  event: CloudEvent<string, unknown>;
}

/** A document that carries events to publish: every step document, and what actions outside steps record. */
export interface OutboxDoc {
  _id: string;
  _rev?: string;
  /** Written as a tombstone: the document is deleted. */
  _deleted?: true;
  outbox: OutboxEntry[];
  /** Epoch ms when the oldest unpublished entry was written; absent when the outbox is empty (the relay's index). */
  outboxSince?: number;
}

export interface EntityDoc<S> extends OutboxDoc {
  kind: "entity";
  state: S;
  /** Number of events applied to this entity. */
  version: number;
  /** [applied entry (appliedEntry: key and payload digests), epoch ms when applied], oldest first, for the window. */
  applied: Memory;
  updatedAt: number;
}

export type IdempotencyStatus = "INPROGRESS" | "COMPLETED";

export interface IdempotencyDoc extends OutboxDoc {
  kind: "idempotency";
  status: IdempotencyStatus;
  payloadHash: string;
  /** While INPROGRESS: the holder's activation deadline (epoch ms); after it the lock may be taken over. */
  inProgressExpiresAt: number;
  /** Epoch ms after which the record may be purged: the retention window. */
  expiresAt: number;
  result?: unknown;
}

/** What one input did to a stream: the input as received and the events the step emitted for it. */
export interface StreamEntry {
  input: CloudEvent<string, unknown>;
  emitted: CloudEvent<string, unknown>[];
}

export interface StreamCommitDoc extends OutboxDoc {
  kind: "commit";
  stream: string;
  /** 1, 2, 3... The document id carries it, so two appends at one sequence number conflict. */
  seq: number;
  /** Applied entries (appliedEntry) of the inputs in this commit: a stream's applied keys are all its commits'. */
  applied: string[];
  entries: StreamEntry[];
  committedAt: number;
  /** The spec's projection of the state after this commit, for queries. */
  view?: Record<string, unknown>;
  /** True while this is the stream's latest commit (see findStreamHeads); cleared once a successor is written. */
  head?: boolean;
}

export type StepDoc = EntityDoc<unknown> | IdempotencyDoc | StreamCommitDoc;

/** Zero-padded so that a stream's commits sort by sequence in `_all_docs` and `_find`. */
export const commitDocId = (stream: string, seq: number) => `stream:${stream}:${String(seq).padStart(10, "0")}`;

/** 128 bits of SHA-256 of an idempotency key: a short, fixed-size name for it in documents. */
export function keyDigest(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 22);
}

// An applied key as documents keep it: 96 bits of the key's digest (a unit remembers at most a few thousand keys),
// a dot, and 36 bits of the digest of the event's payload (type, subject, data), so that the same key with other
// content is told apart from a repeat. 23 characters, one more than the key's full digest that documents written
// before 0.3 keep (without a payload): those still count as applied.

const APPLIED_KEY_CHARS = 16;

export const appliedKey = (key: string) => keyDigest(key).slice(0, APPLIED_KEY_CHARS);

export function payloadDigest(event: Pick<CloudEvent, "type" | "subject" | "data">): string {
  return createHash("sha256")
    .update(canonicalJson({ type: event.type, subject: event.subject, data: event.data }))
    .digest("base64url")
    .slice(0, 6);
}

export const appliedEntry = (key: string, event: CloudEvent<string, unknown>) =>
  `${appliedKey(key)}.${payloadDigest(event)}`;

/** Stored applied entries by applied key -> the payload digest, or "" when the entry predates payload digests. */
export function appliedIndex(entries: Iterable<string>): Map<string, string> {
  const index = new Map<string, string>();
  for (const entry of entries) {
    const dot = entry.indexOf(".");
    const key = (dot < 0 ? entry : entry.slice(0, dot)).slice(0, APPLIED_KEY_CHARS);
    index.set(key, dot < 0 ? "" : entry.slice(dot + 1));
  }
  return index;
}

export const entityDocId = (entityId: string) => `entity:${entityId}`;
export const idempotencyDocId = (keyDigest: string) => `idem:${keyDigest}`;

/** The outbox fields after some entries were published: the others stay, with their original age. */
export function withoutPublished<D extends OutboxDoc>(doc: D, publishedIds: ReadonlySet<string>): D {
  const outbox = doc.outbox.filter((entry) => !publishedIds.has(entry.event.id));
  const next: D = { ...doc, outbox };
  // An empty outbox has no age: the relay's query (outboxSince > 0) no longer finds the document.
  if (outbox.length === 0) delete next.outboxSince;
  return next;
}

// The step's round trips to its database: one bulk read, one bulk write, and a query for the relay.

export class MissingDatabase extends SagaError {
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
export async function readDocs<D extends { _id: string; _rev?: string } = StepDoc>(
  client: Cloudant,
  db: string,
  ids: string[],
): Promise<Map<string, D>> {
  if (ids.length === 0) return new Map();
  const response = await client
    .postAllDocs<D>({ db, keys: [...new Set(ids)], includeDocs: true })
    .catch((err) => rethrowMissing(db, err));
  const found = new Map<string, D>();
  for (const row of response.result.rows) {
    if (row.id && row.doc && !row.value?.deleted) found.set(row.id, row.doc);
  }
  return found;
}

export type WriteOutcome =
  | { id: string; ok: true; rev: string }
  | { id: string; ok: false; conflict: boolean; reason: string };

/** One round trip: writes every document; each succeeds or fails (409 conflict) on its own, as CouchDB does. */
export async function writeDocs<D extends { _id: string; _rev?: string } = StepDoc>(
  client: Cloudant,
  db: string,
  docs: D[],
): Promise<Map<string, WriteOutcome>> {
  const outcomes = new Map<string, WriteOutcome>();
  if (docs.length === 0) return outcomes;
  const response = await client.postBulkDocs({ db, bulkDocs: { docs } }).catch((err) => rethrowMissing(db, err));
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

/** A write the store refused for another reason than a conflict, or a conflict that would not resolve. */
export class StoreWriteFailed extends SagaError {
  override name = "StoreWriteFailed";
}

/** Streams longer than one query can read: they would need snapshots, which the kit does not have. */
export class StreamTooLong extends SagaError {
  override name = "StreamTooLong";
}

/** A stream whose commits are not numbered 1..n without a hole: a replica that has not caught up (Cloudant's reads). */
export class StreamGap extends SagaError {
  override name = "StreamGap";
  constructor(
    readonly stream: string,
    readonly missing: number,
  ) {
    super(`stream ${stream}: commit ${missing} is missing from the query's answer (an index not caught up yet)`);
  }
}

/** Most commits one stream may have: state is rebuilt by replaying them all, and snapshots are not implemented. */
export const MAX_STREAM_COMMITS = 10_000;

/** The largest sequence number a commit id can hold (ten digits). */
const LAST_SEQ = 9_999_999_999;

/** Streams read per `_all_docs/queries` request: a batch of a thousand work orders is ten requests, not one huge one. */
export const STREAMS_PER_REQUEST = 100;

/**
 * Every commit of these streams: one `_all_docs` range per stream (`_all_docs/queries`, up to STREAMS_PER_REQUEST
 * a request), each over the stream's own commit ids. A `_find` on `kind` and `stream` with `$in` is planned as one
 * range over every commit of every stream, so its cost grows with the database instead of with the streams asked for.
 */
async function queryStreams(client: Cloudant, db: string, streams: string[]): Promise<Map<string, StreamCommitDoc[]>> {
  const unique = [...new Set(streams)];
  const byStream = new Map<string, StreamCommitDoc[]>(unique.map((stream) => [stream, []]));
  for (let at = 0; at < unique.length; at += STREAMS_PER_REQUEST) {
    await queryStreamRange(client, db, unique.slice(at, at + STREAMS_PER_REQUEST), byStream);
  }
  return byStream;
}

async function queryStreamRange(
  client: Cloudant,
  db: string,
  unique: string[],
  byStream: Map<string, StreamCommitDoc[]>,
): Promise<void> {
  const queries = unique.map((stream) => ({
    startKey: commitDocId(stream, 0),
    endKey: commitDocId(stream, LAST_SEQ),
    includeDocs: true,
    limit: MAX_STREAM_COMMITS,
  }));
  const response = await client
    .postAllDocsQueries<StreamCommitDoc>({ db, queries })
    .catch((err) => rethrowMissing(db, err));
  response.result.results.forEach((result, i) => {
    const stream = unique[i] ?? "";
    if (result.rows.length >= MAX_STREAM_COMMITS)
      throw new StreamTooLong(
        `stream ${stream} has ${MAX_STREAM_COMMITS} commits or more; snapshots are not implemented`,
      );
    const commits = byStream.get(stream) ?? [];
    for (const row of result.rows) {
      const doc = row.doc;
      // The range also holds a stream whose name continues with ":<digits>": keep this stream's own commits.
      if (doc?.kind === "commit" && doc.stream === stream) commits.push(doc);
    }
    commits.sort((a, b) => a.seq - b.seq);
  });
}

/** The first sequence number missing from 1..n, or undefined when the commits are contiguous. */
export function firstGap(commits: StreamCommitDoc[]): number | undefined {
  const hole = commits.findIndex((commit, i) => commit.seq !== i + 1);
  return hole === -1 ? undefined : hole + 1;
}

/**
 * Every commit of these streams, in one request, grouped by stream and sorted by sequence. Cloudant answers
 * `_all_docs` from one copy of each shard, which may not have a write the cluster acknowledged yet: a stream whose
 * commits are not contiguous is read again (a few times, briefly), and if a hole remains StreamGap is thrown.
 * Deciding on a history with a hole would decide the missing inputs again.
 */
export async function readStreams(
  client: Cloudant,
  db: string,
  streams: string[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<Map<string, StreamCommitDoc[]>> {
  const read = await queryStreams(client, db, streams);
  for (let attempt = 1; ; attempt += 1) {
    const gapped = [...read].flatMap(([stream, commits]) => {
      const missing = firstGap(commits);
      return missing === undefined ? [] : [{ stream, missing }];
    });
    if (gapped.length === 0) return read;
    if (attempt > 3) throw new StreamGap(gapped[0]?.stream ?? "", gapped[0]?.missing ?? 0);
    await sleep(50 * 2 ** attempt);
    const again = await queryStreams(
      client,
      db,
      gapped.map((g) => g.stream),
    );
    for (const [stream, commits] of again) read.set(stream, commits);
  }
}

/**
 * A stream's current commit is its head (`head: true`); a commit stops being the head once its successor is written.
 * Queries over the heads see each stream once, however long its history: "open work orders past their deadline"
 * costs what is open, not what ever was. A head left behind by a crash is retired by the next reader that sees it.
 */
export async function findStreamHeads(
  client: Cloudant,
  db: string,
  selector: Record<string, unknown>,
  limit: number,
  skip = 0,
): Promise<StreamCommitDoc[]> {
  const response = await client
    .postFind<StreamCommitDoc>({
      db,
      selector: { kind: "commit", head: true, ...selector },
      limit,
      ...(skip > 0 ? { skip } : {}),
    })
    .catch((err) => rethrowMissing(db, err));
  return response.result.docs;
}

/** Clears `head` on commits that have a successor. Best effort: a conflict means someone changed it; a reader retries. */
export async function retireHeads(client: Cloudant, db: string, commits: StreamCommitDoc[]): Promise<number> {
  const stale = commits.filter((commit) => commit.head);
  if (stale.length === 0) return 0;
  const results = await writeDocs(
    client,
    db,
    stale.map(({ head: _, ...commit }) => commit),
  );
  return [...results.values()].filter((result) => result.ok).length;
}

/** Documents whose outbox has waited longer than the cutoff: left by an activation that died before publishing. */
export async function findStaleOutboxes(
  client: Cloudant,
  db: string,
  cutoff: number,
  limit: number,
): Promise<StepDoc[]> {
  const response = await client
    .postFind<StepDoc>({ db, selector: { outboxSince: { $gt: 0, $lt: cutoff } }, limit })
    .catch((err) => rethrowMissing(db, err));
  return response.result.docs;
}

/** Idempotency records past their retention window. */
export async function findExpiredRecords(client: Cloudant, db: string, now: number, limit: number): Promise<StepDoc[]> {
  const response = await client
    .postFind<StepDoc>({ db, selector: { kind: "idempotency", expiresAt: { $gt: 0, $lt: now } }, limit })
    .catch((err) => rethrowMissing(db, err));
  return response.result.docs;
}

/** The kit's queries and the fields they need indexed: the relay's, the stream heads', the landings', the audit's. */
export const STEP_INDEXES: { ddoc: string; name: string; fields: string[] }[] = [
  { ddoc: "step-kit", name: "outbox-since", fields: ["outboxSince"] },
  { ddoc: "step-kit", name: "stream-heads", fields: ["kind", "head"] },
  { ddoc: "step-kit", name: "inbox-deadline", fields: ["kind", "deadline"] },
  { ddoc: "step-kit", name: "coverage-by-step", fields: ["kind", "step"] },
  { ddoc: "step-kit", name: "expires-at", fields: ["kind", "expiresAt"] },
];

/** Creates the kit's indexes; creating an existing index is a no-op. */
export async function ensureStepIndexes(client: Cloudant, db: string): Promise<void> {
  for (const { ddoc, name, fields } of STEP_INDEXES) {
    const index = { fields: fields.map((field): Record<string, "asc"> => ({ [field]: "asc" })) };
    await client.postIndex({ db, ddoc, name, index, type: "json" });
  }
}

/** Every entity's state in an entity step's database, in one request: what a read side shows. */
export async function readEntityStates<S>(client: Cloudant, db: string): Promise<S[]> {
  const response = await client
    .postAllDocs<EntityDoc<S>>({ db, startKey: entityDocId(""), endKey: entityDocId("\ufff0"), includeDocs: true })
    .catch((err) => rethrowMissing(db, err));
  return response.result.rows.flatMap((row) => (row.doc ? [row.doc.state] : []));
}

/** A page of entities' states in id order, and how many there are in all. */
export async function readEntityPage<S>(
  client: Cloudant,
  db: string,
  page: { skip: number; limit: number },
): Promise<{ total: number; states: S[] }> {
  const range = { db, startKey: entityDocId(""), endKey: entityDocId("\ufff0") };
  const [ids, docs] = await Promise.all([
    client.postAllDocs(range),
    client.postAllDocs<EntityDoc<S>>({ ...range, includeDocs: true, skip: page.skip, limit: page.limit }),
  ]).catch((err) => rethrowMissing(db, err));
  const states = docs.result.rows.flatMap((row) => (row.doc ? [row.doc.state] : []));
  return { total: ids.result.rows.length, states };
}

/** One entity's state, or undefined when the step has never applied an event to it. */
export async function readEntityState<S>(client: Cloudant, db: string, entityId: string): Promise<S | undefined> {
  const id = entityDocId(entityId);
  return (await readDocs<EntityDoc<S>>(client, db, [id])).get(id)?.state;
}

/**
 * Replays a stream: its state, the keys it has applied, its last sequence number. A stream's commits hold only
 * events its step's catalog parsed (inputs) or built (emits), so `evolve` may take the catalog's event type `E`.
 */
export function replay<S, E extends CloudEvent<string, unknown> = CloudEvent<string, unknown>>(
  evolve: (state: S | undefined, event: E) => S,
  commits: StreamCommitDoc[],
): { state: S | undefined; applied: Set<string>; seq: number } {
  let state: S | undefined;
  const applied = new Set<string>();
  for (const commit of commits) {
    for (const digest of commit.applied) applied.add(digest);
    for (const entry of commit.entries) {
      for (const event of [entry.input, ...entry.emitted]) state = evolve(state, event as E);
    }
  }
  return { state, applied, seq: commits.at(-1)?.seq ?? 0 };
}
