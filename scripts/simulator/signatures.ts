// What a pump's sensors read: healthy readings near nominal, and the signature of each problem in PROBLEMS.
// The thresholds a detector can rely on are in SIGNATURES; the unit tests hold the readings to them.
import type { PROBLEMS, SensorValues } from "../../functions/events.ts";
import { between, type Random } from "./prng.ts";

export type Problem = (typeof PROBLEMS)[number];

export type Reading = SensorValues;

/** Healthy readings deviate from nominal by at most this share (uniform noise). */
export const HEALTHY_NOISE = 0.04;
/** The band a healthy pump stays inside: ±5% of nominal on every reading. */
export const HEALTHY_BAND = 0.05;

/** Problems that develop over a ramp (thermal, wear); the others appear at once. */
export const RAMPED: ReadonlySet<Problem> = new Set<Problem>(["overheating", "pressure-drop"]);

/** Fully developed signatures (after the ramp), relative to the pump's nominal readings. */
export const SIGNATURES: Record<Problem, string> = {
  overheating: "temperature >= nominal + 30 °C (climbs linearly over the ramp); other readings healthy",
  "pressure-drop": "pressure <= 0.55 x nominal and flowRate <= 0.6 x nominal; other readings healthy",
  overcurrent: "current >= 1.5 x nominal (random spikes up to 2.3x), rotation healthy",
  cavitation:
    "pressure alternates above/below nominal by 30-45% on successive readings (two in a row differ by >= 0.55 x nominal), flowRate noisy within ±20%",
  stalled: "rotation <= 0.03 x nominal and current >= 1.7 x nominal",
};

const round2 = (value: number) => Math.round(value * 100) / 100;

export function roundReading(reading: Reading): Reading {
  return {
    rotation: round2(reading.rotation),
    current: round2(reading.current),
    pressure: round2(reading.pressure),
    flowRate: round2(reading.flowRate),
    temperature: round2(reading.temperature),
  };
}

export function healthyReading(nominal: Reading, random: Random): Reading {
  const noisy = (value: number) => value * (1 + between(random, -HEALTHY_NOISE, HEALTHY_NOISE));
  return {
    rotation: noisy(nominal.rotation),
    current: noisy(nominal.current),
    pressure: noisy(nominal.pressure),
    flowRate: noisy(nominal.flowRate),
    temperature: noisy(nominal.temperature),
  };
}

/**
 * A reading of a pump with this problem. `strength` (0..1) is how far a ramped problem has developed; `sequence`
 * is the pump's reading number, which sets the phase of cavitation's oscillation.
 */
export function faultyReading(
  problem: Problem,
  nominal: Reading,
  strength: number,
  sequence: number,
  random: Random,
): Reading {
  const base = healthyReading(nominal, random);
  switch (problem) {
    case "overheating":
      return { ...base, temperature: base.temperature + strength * between(random, 34, 40) };
    case "pressure-drop":
      return {
        ...base,
        pressure: base.pressure * (1 - strength * between(random, 0.5, 0.6)),
        flowRate: base.flowRate * (1 - strength * between(random, 0.45, 0.55)),
      };
    case "overcurrent":
      return { ...base, current: nominal.current * between(random, 1.55, 2.3) };
    case "cavitation": {
      const sign = sequence % 2 === 0 ? 1 : -1;
      return {
        ...base,
        pressure: nominal.pressure * (1 + sign * between(random, 0.3, 0.45)),
        flowRate: nominal.flowRate * (1 + between(random, -0.2, 0.2)),
      };
    }
    case "stalled":
      return {
        ...base,
        rotation: nominal.rotation * between(random, 0, 0.03),
        current: nominal.current * between(random, 1.75, 2.2),
      };
  }
}
