// The simulator's command line: flags, defaults and validation. Pure, so the tests can check it.

import { TOPIC } from "../../functions/topology.ts";
import { commandLine, numberOption, UsageError, valueOptions } from "../cli.ts";

export interface SimulateOptions {
  pumps: number;
  /** Readings per second across the fleet. */
  rate: number;
  seconds: number;
  /** Share of pumps that go wrong, 0..1. */
  faulty: number;
  seed: string;
  topicAssets: string;
  topicMetrics: string;
  /** Produce every record twice (at-least-once tests). */
  duplicate: boolean;
  /** Produce each record 1 to maxCopies times, at random from the seed (overrides duplicate when above 1). */
  maxCopies?: number;
  /** Epoch ms of the metric stream's first reading; defaults to when streaming starts. Fixes the timestamps. */
  startAt?: number;
}

export const DEFAULTS: SimulateOptions = {
  pumps: 20,
  rate: 50,
  seconds: 30,
  faulty: 0.2,
  seed: "1",
  topicAssets: TOPIC.assets,
  topicMetrics: TOPIC.metrics,
  duplicate: false,
};

export const USAGE = `usage: npm run simulate -- [--pumps N] [--rate R] [--seconds S] [--faulty SHARE] [--seed X]
                        [--topic-assets T] [--topic-metrics T] [--duplicate | --copies MAX]
  --pumps N          pumps in the fleet (default ${DEFAULTS.pumps})
  --rate R           readings per second across the fleet (default ${DEFAULTS.rate})
  --seconds S        how long readings stream (default ${DEFAULTS.seconds})
  --faulty SHARE     share of pumps that go wrong, 0..1 (default ${DEFAULTS.faulty})
  --seed X           same seed, same fleet, faults and event ids (default ${DEFAULTS.seed})
  --topic-assets T   where pump.registered goes (default ${DEFAULTS.topicAssets})
  --topic-metrics T  where pump.metric.reported goes (default ${DEFAULTS.topicMetrics})
  --duplicate        produce every record twice, as an at-least-once broker may deliver it
  --copies MAX       produce each record 1 to MAX times, drawn from the seed`;

/** Returns undefined for --help. */
export function parseSimulateArgs(argv: string[]): SimulateOptions | undefined {
  const parsed = commandLine(argv, {
    ...valueOptions("pumps", "rate", "seconds", "faulty", "seed", "topic-assets", "topic-metrics", "copies"),
    duplicate: { type: "boolean" },
  });
  if (!parsed) return undefined;
  const { values } = parsed;
  const text = (flag: "seed" | "topic-assets" | "topic-metrics", fallback: string) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    if (raw.trim() === "") throw new UsageError(`--${flag} must not be empty`);
    return raw;
  };
  return {
    pumps: numberOption("pumps", values.pumps, { whole: true, min: 1 }) ?? DEFAULTS.pumps,
    rate: numberOption("rate", values.rate, { above: 0 }) ?? DEFAULTS.rate,
    seconds: numberOption("seconds", values.seconds, { above: 0 }) ?? DEFAULTS.seconds,
    faulty: numberOption("faulty", values.faulty, { min: 0, max: 1 }) ?? DEFAULTS.faulty,
    seed: text("seed", DEFAULTS.seed),
    topicAssets: text("topic-assets", DEFAULTS.topicAssets),
    topicMetrics: text("topic-metrics", DEFAULTS.topicMetrics),
    duplicate: values.duplicate === true,
    ...(values.copies !== undefined
      ? { maxCopies: numberOption("copies", values.copies, { whole: true, min: 1, max: 100 }) }
      : {}),
  };
}
