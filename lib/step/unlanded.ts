// A batch the step could not land (the store did not answer within the deadline) is not worked on: a kill would
// lose it. Every record goes to the step's retry topic instead, which keeps it until the store is back; what cannot
// be read goes to the dead-letter topic as usual.
import type { DecodedRecord } from "../feed/decode.ts";
import type { BatchIO } from "./batch-io.ts";
import { classify } from "./classify.ts";
import { BatchLedger } from "./ledger.ts";
import { publishAndClear } from "./publish.ts";
import { type BatchReport, summarize } from "./report.ts";
import type { UnitStep } from "./rounds.ts";
import { DEFAULT_LIMITS } from "./spec.ts";
import { isTransientStoreError, retryWithinDeadline } from "./transient.ts";

export async function sendAllToRetry(
  step: UnitStep,
  records: DecodedRecord[],
  io: BatchIO,
  reason: string,
): Promise<BatchReport> {
  const limits = { ...DEFAULT_LIMITS, ...step.limits };
  const deadline = { at: io.deadline, reserveMs: limits.deadlineReserveMs };
  const ledger = new BatchLedger(step, limits, io.now);
  for (const message of classify(records, { ...step, maxAttempts: limits.retryAttempts })) {
    if (message.kind === "dead-letter") ledger.deadLetter(message, message.reason, message.message);
    else if (message.kind === "ignored") ledger.ignore(message);
    else ledger.sendToRetry(message, reason);
  }
  const storeCall = <T>(fn: () => Promise<T>) =>
    retryWithinDeadline(fn, { deadline, now: io.now, isTransient: isTransientStoreError, sleep: io.sleep });
  const { published, pending } = await publishAndClear(io, step.database, [], [], ledger, deadline, storeCall);
  return summarize(step.name, [...ledger.reports.values()], published, pending);
}
