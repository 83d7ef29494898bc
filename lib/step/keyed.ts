// One activation's batch for a keyed step (no entity of its own), in the manner of AWS Lambda Powertools'
// idempotency but with the record, the result and the outbox in one document: claim every key with one bulk write,
// settle the claims that met an existing record, run the handlers, complete with one bulk write, publish, clear.
import { describeError } from "../errors.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { decide, hashPayload } from "../idempotency/decide.ts";
import { attemptUpToAsync, entriesFor, failureReason } from "./apply.ts";
import { classify, type EventMessage } from "./classify.ts";
import { type IdempotencyDoc, idempotencyDocId, keyDigest, readDocs, type StepDoc, writeDocs } from "./documents.ts";
import { type BatchIO, type StoreCall, storeCallWithin } from "./io.ts";
import { BatchLedger, type BatchReport } from "./outcomes.ts";
import { publishAndClear } from "./publish.ts";
import { waitForRetryDelay } from "./rounds.ts";
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type KeyedStepSpec, type StepLimits } from "./spec.ts";

interface Claim {
  message: EventMessage;
  docId: string;
  payloadHash: string;
  rev?: string;
}

/** What the payload hash covers: the event minus its delivery details (a re-sent event may carry a new time). */
function payloadOf(message: EventMessage): unknown {
  const { type, subject, data } = message.event;
  return { type, subject, data };
}

/** What every phase of one keyed batch shares. */
interface KeyedBatch<R> {
  step: KeyedStepSpec<R>;
  io: BatchIO;
  limits: StepLimits;
  ledger: BatchLedger;
  storeCall: StoreCall;
  /** A key's record while its handler runs: a lock that lapses at the activation's deadline. */
  inProgress: (claim: Claim) => IdempotencyDoc;
}

/** A claimed key whose handler succeeded: its completed record, and the ids of the events it emits. */
interface Handled {
  claim: Claim;
  doc: IdempotencyDoc;
  emitted: string[];
}

export async function runKeyedBatch<R>(
  step: KeyedStepSpec<R>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const retentionMs = step.retentionMs ?? DEFAULT_RETENTION.windowMs;
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const batch: KeyedBatch<R> = {
    step,
    io,
    limits,
    ledger: new BatchLedger(step, limits, io.now),
    storeCall: storeCallWithin(deadline, io),
    inProgress: (claim) => ({
      _id: claim.docId,
      ...(claim.rev ? { _rev: claim.rev } : {}),
      kind: "idempotency",
      status: "INPROGRESS",
      payloadHash: claim.payloadHash,
      inProgressExpiresAt: io.deadline,
      expiresAt: io.deadline + retentionMs,
      outbox: [],
    }),
  };
  const claims = claimsOf(batch, records);
  await waitForRetryDelay(
    [...claims.values()].map((claim) => claim.message),
    io,
    limits,
  );
  const held = await takeLocks(batch, claims);
  await io.crash?.beforeWrite?.();
  const handled = await runHandlers(batch, held);
  const written = await complete(batch, handled);
  await io.crash?.afterWrite?.();
  const { published, pending } = await publishAndClear(
    { ...io, afterPublish: io.crash?.afterPublish },
    step.database,
    written,
    written.flatMap((doc) => doc.outbox),
    batch.ledger,
    deadline,
    batch.storeCall,
  );
  return batch.ledger.summarize(published, pending);
}

const retryAll = (ledger: BatchLedger, claims: Claim[], reason: string) => {
  for (const claim of claims) ledger.sendToRetry(claim.message, reason);
};

/** 1. One claim per distinct key; a key repeated within the batch is a duplicate (or a mismatch) of its first. */
function claimsOf<R>({ step, limits, ledger }: KeyedBatch<R>, records: DecodedRecord[]): Map<string, Claim> {
  const claims = new Map<string, Claim>();
  for (const message of classify(records, { ...step, maxAttempts: limits.retryAttempts })) {
    if (message.kind === "dead-letter") ledger.deadLetter(message, message.reason, message.message);
    else if (message.kind === "ignored") ledger.ignore(message);
    else {
      const docId = idempotencyDocId(keyDigest(message.key));
      const payloadHash = hashPayload(payloadOf(message));
      const first = claims.get(docId);
      if (!first) claims.set(docId, { message, docId, payloadHash });
      else if (first.payloadHash === payloadHash) ledger.settle(message, "duplicate");
      else
        ledger.deadLetter(
          message,
          "payload-mismatch",
          `key ${message.key} was seen in this batch with another payload`,
        );
    }
  }
  return claims;
}

/**
 * 2. Every key's lock, in one bulk write that creates the records. A conflict means a record exists: those are read
 * and decided (a duplicate, a mismatch, a lock held elsewhere, or one to take over). The claims held come back.
 */
async function takeLocks<R>(batch: KeyedBatch<R>, claims: Map<string, Claim>): Promise<Claim[]> {
  const { step, io, ledger, storeCall, inProgress } = batch;
  const held: Claim[] = [];
  try {
    const created = await storeCall(() => writeDocs(io.cloudant, step.database, [...claims.values()].map(inProgress)));
    const existing: Claim[] = [];
    for (const claim of claims.values()) {
      const result = created.get(claim.docId);
      if (result?.ok) held.push({ ...claim, rev: result.rev });
      else if (result?.conflict) existing.push(claim);
      else {
        const why = result?.ok === false ? result.reason : "no answer";
        retryAll(ledger, [claim], `claiming ${claim.docId} failed: ${why}`);
      }
    }
    const records = await storeCall(() =>
      readDocs<IdempotencyDoc>(
        io.cloudant,
        step.database,
        existing.map((c) => c.docId),
      ),
    );
    const takeovers: Claim[] = [];
    for (const claim of existing) {
      const record = records.get(claim.docId);
      const verdict = decide(record, { now: io.now(), payloadHash: claim.payloadHash, deadline: io.deadline });
      if (verdict.kind === "duplicate") ledger.settle(claim.message, "duplicate", { result: verdict.result });
      else if (verdict.kind === "payload-mismatch") {
        ledger.deadLetter(
          claim.message,
          "payload-mismatch",
          `key ${claim.message.key} was processed with another payload`,
        );
      } else if (verdict.kind === "in-progress") retryAll(ledger, [claim], "another activation holds this key's lock");
      else takeovers.push({ ...claim, rev: record?._rev });
    }
    // Expired records and dead holders' locks are taken over with their _rev: of two contenders one wins.
    const taken = await storeCall(() => writeDocs(io.cloudant, step.database, takeovers.map(inProgress)));
    for (const claim of takeovers) {
      const result = taken.get(claim.docId);
      if (result?.ok) held.push({ ...claim, rev: result.rev });
      else retryAll(ledger, [claim], "another activation took this key's lock first");
    }
  } catch (err) {
    // Claims are copied into `held` with their revision: compare by document id.
    const heldIds = new Set(held.map((claim) => claim.docId));
    retryAll(
      ledger,
      [...claims.values()].filter((c) => !heldIds.has(c.docId)),
      `claiming keys in ${step.database} failed: ${describeError(err)}`,
    );
  }
  return held;
}

/**
 * 3. The handlers of the claimed keys, side by side. A key whose handler (or its emits) fails is dead-lettered and
 * its lock released, so that a replay of the dead letter can claim the key again.
 */
async function runHandlers<R>(
  { step, io, limits, ledger, inProgress }: KeyedBatch<R>,
  held: Claim[],
): Promise<{ handled: Handled[]; released: IdempotencyDoc[] }> {
  const handled: Handled[] = [];
  const released: IdempotencyDoc[] = [];
  await Promise.all(
    held.map(async (claim) => {
      const { message } = claim;
      const context = { now: io.now(), step: step.name, config: io.config ?? {} };
      const ran = await attemptUpToAsync(limits.handlerAttempts, () => step.handle(message.event, context));
      const made = ran.ok
        ? entriesFor(step, message, ran.value.emit ?? [], message.event.subject, io.now(), ran.attempts)
        : undefined;
      if (ran.ok && made?.ok) {
        const outbox = made.entries;
        const doc: IdempotencyDoc = {
          ...inProgress(claim),
          status: "COMPLETED",
          result: ran.value.result,
          outbox,
          ...(outbox.length > 0 ? { outboxSince: io.now() } : {}),
        };
        handled.push({ claim, doc, emitted: outbox.map((entry) => entry.event.id) });
        return;
      }
      released.push({ ...inProgress(claim), _deleted: true });
      if (!ran.ok) ledger.deadLetter(message, failureReason(ran.error), describeError(ran.error), ran.attempts);
      else if (made && !made.ok) ledger.deadLetter(message, made.outcome.reason, made.outcome.message, ran.attempts);
    }),
  );
  return { handled, released };
}

/** 4. Complete: record, result and outbox in one write per key, one round trip for all. The records written come back. */
async function complete<R>(
  { step, io, ledger, storeCall }: KeyedBatch<R>,
  { handled, released }: { handled: Handled[]; released: IdempotencyDoc[] },
): Promise<StepDoc[]> {
  const written: StepDoc[] = [];
  try {
    const docs = [...handled.map((entry) => entry.doc), ...released];
    const results = await storeCall(() => writeDocs(io.cloudant, step.database, docs));
    for (const { claim, doc, emitted } of handled) {
      const result = results.get(doc._id);
      if (result?.ok) {
        written.push({ ...doc, _rev: result.rev });
        ledger.settle(claim.message, "applied", { emitted });
      } else {
        // Our lock was taken over (we ran past the deadline): the new holder completes the key.
        ledger.settle(claim.message, "duplicate", { reason: "lock taken over before completion" });
      }
    }
  } catch (err) {
    retryAll(
      ledger,
      handled.map((entry) => entry.claim),
      `completing keys in ${step.database} failed: ${describeError(err)}`,
    );
  }
  return written;
}
