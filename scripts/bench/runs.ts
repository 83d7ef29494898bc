// A benchmark run BENCH_RUNS times, its figures merged: every printed line whose words agree across the runs is
// printed once, each number that differs as "median (min-max)". Lines a run printed and another did not (a client's
// warning, a retry) are left out. Written here rather than taken from a library: it reads our own plain output.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";

// 1,751 and 0.41 are numbers; the comma in "1, 2" is not part of one.
const NUMBER = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g;

/** The line with its numbers taken out: lines of one shape are the same line in different runs. */
const shapeOf = (line: string) => line.replace(NUMBER, "#");

const numberIn = (token: string) => Number(token.replaceAll(",", ""));

/** A value written as the runs wrote it: their decimals, and thousands separated if they were. */
function written(value: number, like: string[]): string {
  const decimals = Math.max(...like.map((token) => token.split(".")[1]?.length ?? 0));
  const grouped = like.some((token) => token.includes(","));
  return grouped
    ? value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
    : value.toFixed(decimals);
}

function mergeTokens(tokens: string[]): string {
  if (tokens.every((token) => token === tokens[0])) return tokens[0] ?? "";
  const values = tokens.map(numberIn).sort((a, b) => a - b);
  const median = values[Math.floor(values.length / 2)] ?? Number.NaN;
  return `${written(median, tokens)} (${written(values[0] ?? 0, tokens)}-${written(values.at(-1) ?? 0, tokens)})`;
}

/** One line from its occurrences in every run (same shape): numbers merged, words kept. */
function mergeLine(lines: string[]): string {
  const numbers = lines.map((line) => line.match(NUMBER) ?? []);
  let index = 0;
  return (lines[0] ?? "").replace(NUMBER, () => {
    const merged = mergeTokens(numbers.map((list) => list[index] ?? ""));
    index += 1;
    return merged;
  });
}

/** The runs' outputs merged, in the first run's order; a line's k-th occurrence is matched with the k-th elsewhere. */
export function mergeRuns(outputs: string[]): string[] {
  const byShape = outputs.map((output) => {
    const groups = new Map<string, string[]>();
    for (const line of output.split("\n")) {
      const shape = shapeOf(line);
      groups.set(shape, [...(groups.get(shape) ?? []), line]);
    }
    return groups;
  });
  const seen = new Map<string, number>();
  const merged: string[] = [];
  for (const line of (outputs[0] ?? "").split("\n")) {
    const shape = shapeOf(line);
    const k = seen.get(shape) ?? 0;
    seen.set(shape, k + 1);
    const occurrences = byShape.map((groups) => groups.get(shape)?.[k]);
    if (occurrences.every((x): x is string => x !== undefined)) merged.push(mergeLine(occurrences));
  }
  return merged;
}

/** Runs `npm run bench -- <name>` `runs` times, one at a time, and prints the merged figures. */
export function benchRuns(name: string, args: string[], runs: number, script: string): number {
  const outputs: string[] = [];
  const loads: string[] = [];
  for (let i = 0; i < runs; i += 1) {
    loads.push(loadavg()[0]?.toFixed(2) ?? "?");
    console.error(`bench ${name}: run ${i + 1} of ${runs}...`);
    const run = spawnSync(process.execPath, ["--import", "tsx", script, name, ...args], {
      env: { ...process.env, BENCH_RUNS: "1" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 64 * 2 ** 20,
    });
    if (run.status !== 0) {
      process.stdout.write(run.stdout);
      console.error(`bench ${name}: run ${i + 1} failed (exit ${run.status})`);
      return run.status ?? 1;
    }
    outputs.push(run.stdout);
  }
  console.log(`${cpus().length} cores, 1-minute load ${loads.join(", ")} before each run`);
  console.log(`BENCH_RUNS=${runs} npm run bench -- ${[name, ...args].join(" ")}: median (min-max) of ${runs} runs\n`);
  for (const line of mergeRuns(outputs)) console.log(line);
  return 0;
}
