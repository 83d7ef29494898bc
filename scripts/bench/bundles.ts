// npm run bench -- bundles: what each action's bundle costs to load, as OpenWhisk's /init evaluates it on every cold
// start: the CPU milliseconds of `require` in a fresh Node process (user + system, process.cpuUsage), the median of
// BENCH_RUNS (3) runs with their spread, and the bundle's size. Builds first, so it measures the code as it is.
//
// Each bundle is loaded the way the runtime loads the action's zip: serverless-openwhisk packs dist/<name>.js with a
// package.json of only `{"main": "dist/<name>.js"}` (compile/functions/runtimes/node.js), and the runtime requires
// the unpacked folder. So the bundle is copied into a temporary folder with that package.json and the folder is
// required from there: CommonJS, as in a container. Required from inside this repository, whose package.json says
// "type": "module", Node 20 takes its ES module path instead and returns an empty module, without `main`: not what a
// container runs (each load here checks that `main` is a function). The `openwhisk` client, which the runtime's
// image installs for every action (the conductors require it), resolves from this repository's node_modules through
// NODE_PATH.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildActions } from "../build.ts";
import { repoRoot } from "../stack/paths.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** A folder laid out as the action's zip unpacks: dist/<file> and the package.json naming it. */
function actionFolder(root: string, file: string): string {
  const folder = join(root, file.replace(/\.js$/, ""));
  mkdirSync(join(folder, "dist"), { recursive: true });
  copyFileSync(join(repoRoot, "dist", file), join(folder, "dist", file));
  writeFileSync(join(folder, "package.json"), JSON.stringify({ main: `dist/${file}` }));
  return folder;
}

/** The CPU milliseconds one fresh process spends requiring the folder (what /init does with the action's zip). */
function loadCpuMs(folder: string): number {
  const probe = `const t=process.cpuUsage();const m=require(${JSON.stringify(folder)});const d=process.cpuUsage(t);if(typeof m.main!=="function")throw new Error("no main");process.stdout.write(String((d.user+d.system)/1000))`;
  return Number(
    execFileSync(process.execPath, ["-e", probe], {
      encoding: "utf8",
      cwd: folder,
      env: { ...process.env, NODE_PATH: join(repoRoot, "node_modules") },
    }),
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export default async function main(): Promise<void> {
  await buildActions(() => undefined);
  const dist = join(repoRoot, "dist");
  const files = readdirSync(dist).filter((file) => file.endsWith(".js"));
  const root = mkdtempSync(join(tmpdir(), "bench-bundles-"));
  try {
    console.log(
      `${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} before the run; ${RUNS} runs each`,
    );
    console.log("\n| action | KiB | load CPU ms, median | spread (min-max) |\n|---|---:|---:|---:|");
    const rows: { file: string; median: number }[] = [];
    for (const file of files) {
      const folder = actionFolder(root, file);
      const runs = Array.from({ length: RUNS }, () => loadCpuMs(folder));
      const size = statSync(join(dist, file)).size;
      rows.push({ file, median: median(runs) });
      console.log(
        `| ${file.replace(/\.js$/, "")} | ${(size / 1024).toFixed(0)} | ${median(runs).toFixed(0)} | ${Math.min(...runs).toFixed(0)}-${Math.max(...runs).toFixed(0)} |`,
      );
    }
    const slowest = rows.reduce((a, b) => (b.median > a.median ? b : a));
    console.log(`\nslowest: ${slowest.file}, ${slowest.median.toFixed(0)} ms of CPU to load (median of ${RUNS})`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
