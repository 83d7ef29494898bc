// The summary printed at the end of a run.
import type { SimulationReport } from "./run.ts";

export function formatReport(report: SimulationReport): string[] {
  const problems = Object.entries(report.byProblem)
    .filter(([, count]) => count > 0)
    .map(([problem, count]) => `${problem} ${count}`);
  const lines = [
    report.interrupted ? "Simulation interrupted." : "Simulation done.",
    `  pumps         ${report.pumps} registered ${report.registered} (${report.healthy} healthy, ${report.faulty.length} faulty)`,
    `  readings      ${report.readings} of ${report.totalReadings} sent to ${report.topics.metrics}`,
    `  records       ${report.records}${report.duplicate ? " (every record twice)" : ""} in ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.recordsPerSecond.toFixed(1)} records/s`,
    `  faulty        ${problems.length > 0 ? problems.join(", ") : "none"}`,
  ];
  for (const fault of report.faulty) {
    const until = !fault.reached
      ? " (not reached)"
      : fault.clearsAt !== undefined
        ? `, clears at +${fault.clearsAt}s`
        : ", to the end";
    lines.push(
      `    ${fault.assetId.padEnd(16)} ${fault.site.padEnd(15)} ${fault.problem.padEnd(13)} from +${fault.startsAt}s${until}`,
    );
  }
  return lines;
}
