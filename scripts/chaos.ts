// npm run chaos [-- --scenario soak|burst-kills] [--seconds S] [--seed X] [--rate R] [--pumps N] [--lossless]
// Runs the saga under faults on the local stack (started here when it is not running) and reports whether anything
// was lost or doubled. Exits 1 on any loss, any doubled effect or any broken invariant.
import { printChaos } from "./chaos/print.ts";
import { BURST_KILLS, type ChaosOptions, runChaos, SOAK } from "./chaos/run.ts";
import { commandLine, numberOption, runCommand, UsageError, usageAsked, valueOptions } from "./cli.ts";
import { clientEnv, readState, StackError, stackDown, stackUp } from "./stack/lifecycle.ts";

const USAGE = `usage: npm run chaos -- [--scenario soak|burst-kills] [--seconds S] [--seed X] [--pumps N] [--rate R]
                        [--lossless]   (the triggers on the lossless feed: the steps land nothing)
  soak         (default) ${SOAK.seconds} s of load and every fault, then the drain and the report
  burst-kills  ${BURST_KILLS.burstReadings} readings from ${BURST_KILLS.burstPumps} new pumps at once, a container killed every ${BURST_KILLS.killEveryMs} ms for ${BURST_KILLS.killWindowMs / 1000} s`;

function options(argv: string[]): ChaosOptions | undefined {
  const parsed = commandLine(argv, {
    ...valueOptions("scenario", "seconds", "seed", "pumps", "rate"),
    lossless: { type: "boolean" },
  });
  if (!parsed) return undefined;
  const { values } = parsed;
  const base = values.scenario === "burst-kills" ? BURST_KILLS : SOAK;
  if (values.scenario !== undefined && values.scenario !== "soak" && values.scenario !== "burst-kills")
    throw new UsageError(`--scenario must be soak or burst-kills, got "${values.scenario}"`);
  return {
    ...base,
    seconds: numberOption("seconds", values.seconds, { above: 0 }) ?? base.seconds,
    seed: values.seed ?? base.seed,
    pumps: Math.round(numberOption("pumps", values.pumps, { above: 0 }) ?? base.pumps),
    rate: numberOption("rate", values.rate, { above: 0 }) ?? base.rate,
    lossless: values.lossless === true,
  };
}

async function main(): Promise<number> {
  const chosen = options(process.argv.slice(2));
  if (!chosen) return usageAsked(USAGE);
  const wasUp = readState() !== undefined;
  try {
    const state = await stackUp({ log: (line) => console.log(line) });
    if (state.kafka.external || state.couch.external)
      throw new StackError(
        "the chaos run restarts the broker and injects store faults: it runs on the local stack only",
      );
    const env = { ...clientEnv(state), ...(chosen.lossless ? { KAFKA_FEED: "lossless" } : {}) };
    const result = await runChaos(chosen, env, (line) => console.log(line));
    console.log("");
    printChaos(result);
    return result.ok ? 0 : 1;
  } finally {
    if (!wasUp) await stackDown((line) => console.log(line)).catch(() => undefined);
  }
}

runCommand("chaos", USAGE, main);
