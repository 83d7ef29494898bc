// The documents a step keeps in its service's database. The entity's state, the keys of the events already
// applied to it and the events still to publish (the outbox) share one document, so one write commits all three.
import { createHash } from "node:crypto";
import type { CloudEvent } from "../events/envelope.ts";
import type { Memory } from "./retention.ts";

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
  outbox: OutboxEntry[];
  /** Epoch ms when the oldest unpublished entry was written; absent when the outbox is empty (the relay's index). */
  outboxSince?: number;
}

export interface EntityDoc<S> extends OutboxDoc {
  kind: "entity";
  state: S;
  /** Number of events applied to this entity. */
  version: number;
  /** [digest of an applied event's idempotency key, epoch ms when applied], oldest first, for the retention window. */
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
  /** Key digests of the inputs in this commit: a stream's applied keys are those of all its commits. */
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

export const entityDocId = (entityId: string) => `entity:${entityId}`;
export const idempotencyDocId = (keyDigest: string) => `idem:${keyDigest}`;

/** The outbox fields after some entries were published: the others stay, with their original age. */
export function withoutPublished<D extends OutboxDoc>(doc: D, publishedIds: ReadonlySet<string>): D {
  const outbox = doc.outbox.filter((entry) => !publishedIds.has(entry.event.id));
  const { outboxSince: _since, ...rest } = doc;
  return (outbox.length > 0 ? { ...rest, outbox, outboxSince: doc.outboxSince } : { ...rest, outbox }) as D;
}
