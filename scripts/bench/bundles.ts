// npm run bench -- bundles: what each action's bundle costs to load, as OpenWhisk's /init evaluates it on every cold
// start: the CPU milliseconds of `require` in a fresh Node process (user + system, process.cpuUsage), the median of
// BENCH_RUNS (3) runs with their spread, and the bundle's size. Builds first, so it measures the code as it is.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { buildActions } from "../build.ts";
import { repoRoot } from "../stack/paths.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** The CPU milliseconds one fresh process spends loading the file (what /init does with an action's main). */
function loadCpuMs(file: string): number {
  const probe = `const t=process.cpuUsage();require(${JSON.stringify(file)});const d=process.cpuUsage(t);process.stdout.write(String((d.user+d.system)/1000))`;
  return Number(execFileSync(process.execPath, ["-e", probe], { encoding: "utf8", cwd: repoRoot }));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export default async function main(): Promise<void> {
  await buildActions(() => undefined);
  const dist = join(repoRoot, "dist");
  const files = readdirSync(dist).filter((file) => file.endsWith(".js"));
  console.log(
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} before the run; ${RUNS} runs each`,
  );
  console.log("\n| action | KiB | load CPU ms, median | spread (min-max) |\n|---|---:|---:|---:|");
  const rows: { file: string; median: number }[] = [];
  for (const file of files) {
    const runs = Array.from({ length: RUNS }, () => loadCpuMs(join(dist, file)));
    const size = statSync(join(dist, file)).size;
    rows.push({ file, median: median(runs) });
    console.log(
      `| ${file.replace(/\.js$/, "")} | ${(size / 1024).toFixed(0)} | ${median(runs).toFixed(0)} | ${Math.min(...runs).toFixed(0)}-${Math.max(...runs).toFixed(0)} |`,
    );
  }
  const slowest = rows.reduce((a, b) => (b.median > a.median ? b : a));
  console.log(`\nslowest: ${slowest.file}, ${slowest.median.toFixed(0)} ms of CPU to load (median of ${RUNS})`);
}
