// The read, decide, write loop that entity and event-sourced steps share: one bulk read and one bulk write per
// round for every unit (entity or stream) still pending; units whose write met a 409 (another activation changed
// them) go round again; what cannot be read or written goes to the retry topic.
import type { BatchIO } from "./batch-io.ts";
import type { OutboxEntry, StepDoc } from "./documents.ts";
import type { DeadLetterReason } from "./failures.ts";
import type { BatchLedger, EventMessage } from "./ledger.ts";
import type { StoreCall } from "./publish.ts";
import { writeDocs } from "./store-io.ts";
import { describeError } from "./transient.ts";

export type UnitOutcome =
  | { status: "applied"; emitted: string[] }
  | { status: "duplicate" }
  | { status: "dead-letter"; reason: DeadLetterReason; message: string; attempts: number };

/** What a unit's messages come to: the document to write (none if nothing changed) and each message's outcome. */
export interface UnitDecision {
  doc?: StepDoc;
  added: OutboxEntry[];
  outcomes: Map<number, UnitOutcome>;
}

export interface RoundsPlan<Current> {
  database: string;
  units: Map<string, EventMessage[]>;
  /** One bulk read of the pending units' current documents. */
  read: (units: string[]) => Promise<Current>;
  decide: (unit: string, messages: EventMessage[], current: Current) => UnitDecision;
  maxRounds: number;
}

export async function applyInRounds<Current>(
  plan: RoundsPlan<Current>,
  io: BatchIO,
  ledger: BatchLedger,
  storeCall: StoreCall,
): Promise<{ written: StepDoc[]; added: OutboxEntry[] }> {
  const retry = (units: string[], reason: string) => {
    for (const unit of units) for (const message of plan.units.get(unit) ?? []) ledger.sendToRetry(message, reason);
  };
  const written: StepDoc[] = [];
  const added: OutboxEntry[] = [];
  let pending = [...plan.units.keys()];
  for (let round = 1; pending.length > 0 && round <= plan.maxRounds; round += 1) {
    let current: Current;
    try {
      current = await storeCall(() => plan.read(pending));
    } catch (err) {
      retry(pending, `reading ${plan.database} failed: ${describeError(err)}`);
      return { written, added };
    }
    const decisions = pending.map((unit) => {
      const messages = plan.units.get(unit) ?? [];
      return { unit, messages, decision: plan.decide(unit, messages, current) };
    });
    const changed = decisions.flatMap((d) => (d.decision.doc ? [d.decision.doc] : []));
    await io.crash?.beforeWrite?.();
    let results: Awaited<ReturnType<typeof writeDocs>> | undefined;
    try {
      results = await storeCall(() => writeDocs(io.cloudant, plan.database, changed));
    } catch (err) {
      retry(
        decisions.filter((d) => d.decision.doc).map((d) => d.unit),
        `writing ${plan.database} failed: ${describeError(err)}`,
      );
    }
    await io.crash?.afterWrite?.();
    const nextRound: string[] = [];
    for (const { unit, messages, decision } of decisions) {
      if (decision.doc) {
        const result = results?.get(decision.doc._id);
        if (!result) continue; // already sent to retry
        if (!result.ok) {
          if (result.conflict) nextRound.push(unit);
          else retry([unit], `writing ${decision.doc._id} failed: ${result.reason}`);
          continue;
        }
        written.push({ ...decision.doc, _rev: result.rev });
        added.push(...decision.added);
      }
      for (const message of messages) {
        const outcome = decision.outcomes.get(message.index);
        if (outcome?.status === "dead-letter")
          ledger.deadLetter(message, outcome.reason, outcome.message, outcome.attempts);
        else if (outcome?.status === "applied") ledger.settle(message, "applied", { emitted: outcome.emitted });
        else if (outcome) ledger.settle(message, "duplicate");
      }
    }
    pending = nextRound;
  }
  retry(pending, `409 conflicts persisted for ${plan.maxRounds} rounds`);
  return { written, added };
}
