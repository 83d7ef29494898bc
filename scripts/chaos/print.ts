// The chaos run's report, as a person reads it.
import { printReport } from "../report/invariants.ts";
import type { ChaosResult } from "./run.ts";

const n = (value: number) => value.toLocaleString("en-US");
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The lag series, thinned to at most `points` samples, as "at s: lag". */
function lagLine(result: ChaosResult, points = 24): string {
  const samples = result.lag;
  if (samples.length === 0) return "(no sample)";
  const step = Math.max(1, Math.ceil(samples.length / points));
  return samples
    .filter((_, i) => i % step === 0 || i === samples.length - 1)
    .map((s) => `${s.at}s:${n(s.lag)}`)
    .join(" ");
}

export function printChaos(result: ChaosResult, log: (line: string) => void = console.log): void {
  const { options, faults, ledger, memory, produced } = result;
  const store = faults.store;
  const share = (part: number) => (store.requests > 0 ? `${((100 * part) / store.requests).toFixed(1)}%` : "0%");
  log(
    `Chaos run (${options.scenario}, seed ${options.seed}): ${options.seconds} s of faults; ${n(produced.readings)} readings from ${n(produced.pumps)} pumps sent as ${n(produced.records)} records (each 1 to ${options.maxCopies} times)`,
  );
  log(
    `Faults: ${n(faults.killed)} containers killed; ${faults.brokerAwayMs > 0 ? `broker away ${(faults.brokerAwayMs / 1000).toFixed(1)} s` : "no broker restart"}; ${faults.storeDownMs > 0 ? `store down ${faults.storeDownMs / 1000} s` : "no store outage"}; of ${n(store.requests)} store requests ${share(store.tooManyRequests)} answered 429, ${share(store.conflicts)} a conflict, ${share(store.lostAnswers)} lost their answer`,
  );
  log("Produced vs applied:");
  for (const row of ledger.rows) {
    const verdict = row.lost || row.doubled ? `  LOST ${row.lost}, DOUBLED ${row.doubled}` : "";
    log(
      `  ${row.step.padEnd(18)} ${row.what.padEnd(44)} ${n(row.produced).padStart(8)} / ${n(row.applied).padStart(8)}${verdict}`,
    );
  }
  log(
    `Lost ${n(ledger.lost)}, doubled ${n(ledger.doubled)}; the largest batch a step was given held ${n(result.largestBatch)} records`,
  );
  printReport(result.report, (line) => log(`  ${line}`));
  log("Largest document per database:");
  for (const doc of ledger.largest)
    log(`  ${doc.database.padEnd(16)} ${kb(doc.bytes).padStart(9)}  ${doc.id}  (${n(doc.documents)} documents)`);
  log(`Consumer lag, records not yet consumed by the feeds: ${lagLine(result)}`);
  log(`Quiet ${(result.drainMs / 1000).toFixed(0)} s after the faults ended`);
  log(
    `Peak RSS: this process (local OpenWhisk, producers) ${memory.platform.toFixed(0)} MiB; containers ${memory.containers.toFixed(0)} MiB (${memory.containersAtOnce} at once); Kafka ${memory.broker.toFixed(0)} MiB; store ${memory.store.toFixed(0)} MiB`,
  );
  log(result.ok ? "PASS: nothing lost, nothing doubled, every invariant holds" : "FAIL: see above");
}
