// The simulator's command line: flags, defaults and validation. Pure, so the tests can check it.

import { TOPIC } from "../../functions/topology.ts";
import { commandLine, UsageError } from "../cli.ts";

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

function number(flag: string, raw: string | undefined, fallback: number, check: (n: number) => boolean, want: string) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${flag} must be ${want}, got "${raw}"`);
  }
  return value;
}

/** Returns undefined for --help. */
export function parseSimulateArgs(argv: string[]): SimulateOptions | undefined {
  const parsed = commandLine(argv, {
    pumps: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    faulty: { type: "string" },
    seed: { type: "string" },
    "topic-assets": { type: "string" },
    "topic-metrics": { type: "string" },
    duplicate: { type: "boolean" },
    copies: { type: "string" },
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
    pumps: number("pumps", values.pumps, DEFAULTS.pumps, (n) => Number.isInteger(n) && n >= 1, "an integer >= 1"),
    rate: number("rate", values.rate, DEFAULTS.rate, (n) => n > 0, "a number > 0"),
    seconds: number("seconds", values.seconds, DEFAULTS.seconds, (n) => n > 0, "a number > 0"),
    faulty: number("faulty", values.faulty, DEFAULTS.faulty, (n) => n >= 0 && n <= 1, "between 0 and 1"),
    seed: text("seed", DEFAULTS.seed),
    topicAssets: text("topic-assets", DEFAULTS.topicAssets),
    topicMetrics: text("topic-metrics", DEFAULTS.topicMetrics),
    duplicate: values.duplicate === true,
    ...(values.copies !== undefined
      ? {
          maxCopies: number(
            "copies",
            values.copies,
            1,
            (n) => Number.isInteger(n) && n >= 1 && n <= 100,
            "an integer from 1 to 100",
          ),
        }
      : {}),
  };
}
