// One activation's batch for a keyed step (no entity of its own), in the manner of AWS Lambda Powertools'
// idempotency but with the record, the result and the outbox in one document: claim every key with one bulk write,
// settle the claims that met an existing record, run the handlers, complete with one bulk write, publish, clear.
import { describeError } from "../errors.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { decide, hashPayload } from "../idempotency/decide.ts";
import { attemptUpToAsync, entriesFor, failureReason } from "./apply.ts";
import { classify, type EventMessage } from "./classify.ts";
import { type IdempotencyDoc, idempotencyDocId, keyDigest, readDocs, type StepDoc, writeDocs } from "./documents.ts";
import { type BatchIO, storeCallWithin } from "./io.ts";
import { BatchLedger, type BatchReport, summarize } from "./outcomes.ts";
import { publishAndClear } from "./publish.ts";
import { waitForRetryDelay } from "./rounds.ts";
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type KeyedStepSpec } from "./spec.ts";

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

export async function runKeyedBatch<R>(
  step: KeyedStepSpec<R>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const retentionMs = step.retentionMs ?? DEFAULT_RETENTION.windowMs;
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const storeCall = storeCallWithin(deadline, io);
  const ledger = new BatchLedger(step, limits, io.now);

  // 1. One claim per distinct key; a key repeated within the batch is a duplicate (or a mismatch) of its first.
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
  const inProgress = (claim: Claim): IdempotencyDoc => ({
    _id: claim.docId,
    ...(claim.rev ? { _rev: claim.rev } : {}),
    kind: "idempotency",
    status: "INPROGRESS",
    payloadHash: claim.payloadHash,
    inProgressExpiresAt: io.deadline,
    expiresAt: io.deadline + retentionMs,
    outbox: [],
  });
  const retryAll = (list: Claim[], reason: string) => {
    for (const claim of list) ledger.sendToRetry(claim.message, reason);
  };

  await waitForRetryDelay(
    [...claims.values()].map((claim) => claim.message),
    io,
    limits,
  );

  // 2. Claim: create every record in one bulk write; a conflict means a record exists, so read those and decide.
  const held: Claim[] = [];
  try {
    const created = await storeCall(() => writeDocs(io.cloudant, step.database, [...claims.values()].map(inProgress)));
    const existing: Claim[] = [];
    for (const claim of claims.values()) {
      const result = created.get(claim.docId);
      if (result?.ok) held.push({ ...claim, rev: result.rev });
      else if (result?.conflict) existing.push(claim);
      else retryAll([claim], `claiming ${claim.docId} failed: ${result?.ok === false ? result.reason : "no answer"}`);
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
      } else if (verdict.kind === "in-progress") retryAll([claim], "another activation holds this key's lock");
      else takeovers.push({ ...claim, rev: record?._rev });
    }
    // Expired records and dead holders' locks are taken over with their _rev: of two contenders one wins.
    const taken = await storeCall(() => writeDocs(io.cloudant, step.database, takeovers.map(inProgress)));
    for (const claim of takeovers) {
      const result = taken.get(claim.docId);
      if (result?.ok) held.push({ ...claim, rev: result.rev });
      else retryAll([claim], "another activation took this key's lock first");
    }
  } catch (err) {
    // Claims are copied into `held` with their revision: compare by document id.
    const heldIds = new Set(held.map((claim) => claim.docId));
    retryAll(
      [...claims.values()].filter((c) => !heldIds.has(c.docId)),
      `claiming keys in ${step.database} failed: ${describeError(err)}`,
    );
  }

  // 3. Run the handlers of the claimed keys, side by side.
  await io.crash?.beforeWrite?.();
  const completed: IdempotencyDoc[] = [];
  const released: IdempotencyDoc[] = [];
  const done: { claim: Claim; emitted: string[] }[] = [];
  await Promise.all(
    held.map(async (claim) => {
      const { message } = claim;
      const context = { now: io.now(), step: step.name, config: io.config ?? {} };
      const handled = await attemptUpToAsync(limits.handlerAttempts, () => step.handle(message.event, context));
      const made = handled.ok
        ? entriesFor(step, message, handled.value.emit ?? [], message.event.subject, io.now(), handled.attempts)
        : undefined;
      if (handled.ok && made?.ok) {
        const outbox = made.entries;
        completed.push({
          ...inProgress(claim),
          status: "COMPLETED",
          result: handled.value.result,
          outbox,
          ...(outbox.length > 0 ? { outboxSince: io.now() } : {}),
        });
        done.push({ claim, emitted: outbox.map((entry) => entry.event.id) });
        return;
      }
      // Release the lock so that a replay of the dead letter can claim the key again.
      released.push({ ...inProgress(claim), _deleted: true });
      if (!handled.ok) {
        ledger.deadLetter(message, failureReason(handled.error), describeError(handled.error), handled.attempts);
      } else if (made && !made.ok) {
        ledger.deadLetter(message, made.outcome.reason, made.outcome.message, handled.attempts);
      }
    }),
  );

  // 4. Complete: record, result and outbox in one write per key, one round trip for all.
  const written: StepDoc[] = [];
  try {
    const results = await storeCall(() => writeDocs(io.cloudant, step.database, [...completed, ...released]));
    for (const doc of completed) {
      const result = results.get(doc._id);
      const entry = done.find((d) => d.claim.docId === doc._id);
      if (!entry) continue;
      if (result?.ok) {
        written.push({ ...doc, _rev: result.rev });
        ledger.settle(entry.claim.message, "applied", { emitted: entry.emitted });
      } else {
        // Our lock was taken over (we ran past the deadline): the new holder completes the key.
        ledger.settle(entry.claim.message, "duplicate", { reason: "lock taken over before completion" });
      }
    }
  } catch (err) {
    retryAll(
      done.map((d) => d.claim),
      `completing keys in ${step.database} failed: ${describeError(err)}`,
    );
  }
  await io.crash?.afterWrite?.();

  // 5. Publish and clear.
  const { published, pending } = await publishAndClear(
    { ...io, afterPublish: io.crash?.afterPublish },
    step.database,
    written,
    written.flatMap((doc) => doc.outbox),
    ledger,
    deadline,
    storeCall,
  );
  return summarize(step.name, [...ledger.reports.values()], published, pending);
}
