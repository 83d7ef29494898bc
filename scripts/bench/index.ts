// npm run bench -- <name> [args]: runs one benchmark and prints its figures. Each entry names a module whose default
// export runs the benchmark; add a line to BENCHMARKS for a new one.
import { fileURLToPath } from "node:url";
import { useRunningStack } from "../stack/lifecycle.ts";
import { benchRuns } from "./runs.ts";

type Benchmark = (args: string[]) => Promise<unknown>;

/** Published figures are the median of this many runs with their spread (runs.ts merges them). */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** runsItself: the benchmark repeats its own measurements BENCH_RUNS times and prints medians and spread. */
const BENCHMARKS: Record<string, { about: string; runsItself?: boolean; load: () => Promise<{ default: Benchmark }> }> =
  {
    step: {
      about: "one step in batches of 100 vs a bare KafkaJS pipe and naive per-message idempotency",
      load: () => import("./step.ts"),
    },
    saga: {
      about: "completed sagas/s and request-to-terminal latency on the local OpenWhisk vs a 4-hop KafkaJS pipe",
      runsItself: true,
      load: () => import("./saga.ts"),
    },
    dashboard: {
      about: "on a running system (npm start): the dashboard's page load and refresh cost in Chromium, per panel",
      load: () => import("./dashboard.ts"),
    },
    bundles: {
      about: "each action's bundle: CPU ms to load it in a fresh process (a cold start's /init), and its size",
      runsItself: true,
      load: () => import("./bundles.ts"),
    },
    platform: {
      about: "local OpenWhisk: cold and warm invokes, invocations/s, Kafka record to action start",
      load: () => import("./platform.ts"),
    },
  };

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const entry = name === undefined ? undefined : BENCHMARKS[name];
  if (!entry) {
    if (name !== undefined) console.error(`bench: unknown benchmark "${name}"`);
    console.error("usage: npm run bench -- <name>");
    for (const [known, { about }] of Object.entries(BENCHMARKS)) console.error(`  ${known.padEnd(10)} ${about}`);
    return 2;
  }
  useRunningStack("bench");
  if (!entry.runsItself && RUNS > 1) return benchRuns(name as string, args, RUNS, fileURLToPath(import.meta.url));
  const { default: run } = await entry.load();
  await run(args);
  return 0;
}

// Exits when done: client libraries may keep sockets or timers open after a benchmark has stopped what it started.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
