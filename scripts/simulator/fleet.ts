// The pump fleet as a pure function of a seed: pumps with their registration, which of them go wrong, how and
// when, and every reading they report. Same options and start time, same events and ids. Ids include the start time:
// an event's content carries its timestamp, and one id must always mean one content.
import { catalog, PROBLEMS } from "../../functions/events.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { between, pick, randomFor, shuffle } from "./prng.ts";
import { faultyReading, healthyReading, type Problem, RAMPED, type Reading, roundReading } from "./signatures.ts";

export type PumpRegisteredEvent = ReturnType<typeof catalog.build<"pump.registered">>;
export type PumpMetricEvent = ReturnType<typeof catalog.build<"pump.metric.reported">>;
export type PumpRegistration = PumpRegisteredEvent["data"];

/** The CloudEvents source of everything the simulator emits. */
export const SIMULATOR_SOURCE = "/pump-simulator";

export const SITES = [
  { id: "riverside", latitude: 45.764, longitude: 4.835 },
  { id: "north-reservoir", latitude: 45.812, longitude: 4.851 },
  { id: "harbour", latitude: 45.721, longitude: 4.809 },
  { id: "east-treatment", latitude: 45.749, longitude: 4.928 },
  { id: "hillside", latitude: 45.788, longitude: 4.772 },
] as const;

export interface FleetOptions {
  seed: string;
  pumps: number;
  /** Share of pumps that go wrong, 0..1. */
  faulty: number;
  /** Readings per second across the fleet. */
  rate: number;
  seconds: number;
}

export interface FaultPlan {
  problem: Problem;
  /** Seconds after the start of the metric stream. */
  startsAt: number;
  /** When the pump recovers, in seconds after the start; absent when it stays faulty to the end. */
  clearsAt?: number;
  /** Seconds a ramped problem takes to develop fully (0 for the others). */
  rampSeconds: number;
}

export interface Pump {
  index: number;
  assetId: string;
  site: string;
  nominal: Reading;
  registration: PumpRegistration;
  fault?: FaultPlan;
}

export interface Fleet {
  options: FleetOptions;
  pumps: Pump[];
  /** round(rate x seconds): readings are spread evenly, pump after pump. */
  totalReadings: number;
}

export interface FaultTruth extends FaultPlan {
  assetId: string;
  site: string;
}

export interface FleetSummary {
  seed: string;
  pumps: number;
  healthy: number;
  faulty: FaultTruth[];
  byProblem: Record<Problem, number>;
}

const CREATED_FROM = Date.UTC(2022, 0, 1);
const DAY_MS = 86_400_000;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

function assetIdOf(seed: string, index: number, pumps: number): string {
  const slug = seed.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "") || "x";
  return `pump-${slug}-${String(index + 1).padStart(Math.max(3, String(pumps).length), "0")}`;
}

function nominalReading(seed: string, index: number): Reading {
  const random = randomFor(`${seed}:nominal:${index}`);
  return {
    rotation: Math.round(between(random, 1450, 2950)),
    current: round(between(random, 15, 45), 1),
    pressure: Math.round(between(random, 250, 600)),
    flowRate: round(between(random, 20, 90), 1),
    temperature: round(between(random, 40, 65), 1),
  };
}

function planPump(options: FleetOptions, index: number, siteOffset: number): Omit<Pump, "fault"> {
  const { seed, pumps } = options;
  const random = randomFor(`${seed}:pump:${index}`);
  const siteIndex = (index + siteOffset) % SITES.length;
  const site = SITES[siteIndex] as (typeof SITES)[number];
  const assetId = assetIdOf(seed, index, pumps);
  const nominal = nominalReading(seed, index);
  const registration: PumpRegistration = {
    assetId,
    type: "ESP",
    os: "Raspbian",
    version: pick(random, ["1.0.3", "1.1.0", "1.2.1"]),
    ipAddress: `10.${siteIndex + 1}.${Math.floor(index / 250)}.${(index % 250) + 2}`,
    antivirus: pick(random, ["v2.3", "v2.4"]),
    site: site.id,
    latitude: round(site.latitude + between(random, -0.02, 0.02), 5),
    longitude: round(site.longitude + between(random, -0.02, 0.02), 5),
    creationDate: new Date(CREATED_FROM + Math.floor(between(random, 0, 900)) * DAY_MS).toISOString(),
    nominal,
  };
  return { index, assetId, site: site.id, nominal, registration };
}

/**
 * Faults start between 15% and 45% of the run; every second one clears again 25-35% of the run later (by 80% at
 * the latest), so monitoring sees incidents end. Problems are dealt in turn from a shuffled PROBLEMS, so five
 * faulty pumps or more show every kind.
 */
function planFault(options: FleetOptions, position: number, problems: Problem[]): FaultPlan {
  const random = randomFor(`${options.seed}:fault:${position}`);
  const problem = problems[position % problems.length] as Problem;
  const startsAt = round(between(random, 0.15, 0.45) * options.seconds, 3);
  const clears = position % 2 === 1;
  const rampSeconds = RAMPED.has(problem) ? round(Math.min(5, 0.1 * options.seconds), 3) : 0;
  const plan: FaultPlan = { problem, startsAt, rampSeconds };
  if (clears) plan.clearsAt = round(startsAt + between(random, 0.25, 0.35) * options.seconds, 3);
  return plan;
}

export function validateFleetOptions(options: FleetOptions): void {
  if (!Number.isInteger(options.pumps) || options.pumps < 1) throw new RangeError("pumps must be an integer >= 1");
  if (!(options.faulty >= 0 && options.faulty <= 1)) throw new RangeError("faulty must be between 0 and 1");
  if (!(options.rate > 0)) throw new RangeError("rate must be > 0");
  if (!(options.seconds > 0)) throw new RangeError("seconds must be > 0");
  if (options.seed === "") throw new RangeError("seed must not be empty");
}

export function planFleet(options: FleetOptions): Fleet {
  validateFleetOptions(options);
  const random = randomFor(`${options.seed}:fleet`);
  const siteOffset = Math.floor(random() * SITES.length);
  const pumps: Pump[] = Array.from({ length: options.pumps }, (_, index) => planPump(options, index, siteOffset));
  const faultyCount = Math.round(options.pumps * options.faulty);
  const problems = shuffle(random, PROBLEMS);
  const faulty = shuffle(random, pumps).slice(0, faultyCount);
  faulty.sort((a, b) => a.index - b.index);
  faulty.forEach((pump, position) => {
    pump.fault = planFault(options, position, problems);
  });
  return { options, pumps, totalReadings: Math.max(1, Math.round(options.rate * options.seconds)) };
}

/** The fault in effect at `t` seconds, and how far it has developed (0..1). */
export function faultAt(pump: Pump, t: number): { problem: Problem; strength: number } | undefined {
  const fault = pump.fault;
  if (!fault || t < fault.startsAt || (fault.clearsAt !== undefined && t >= fault.clearsAt)) return undefined;
  const strength = fault.rampSeconds > 0 ? Math.min(1, (t - fault.startsAt) / fault.rampSeconds) : 1;
  return { problem: fault.problem, strength };
}

export interface PlannedReading {
  pump: Pump;
  /** The pump's own reading number, from 0. */
  sequence: number;
  /** Seconds after the start of the metric stream. */
  offset: number;
  reading: Reading;
}

/** The k-th reading of the run (0-based): pump k mod N, at k / rate seconds. */
export function readingAt(fleet: Fleet, k: number): PlannedReading {
  const { seed, rate } = fleet.options;
  const pump = fleet.pumps[k % fleet.pumps.length] as Pump;
  const sequence = Math.floor(k / fleet.pumps.length);
  const offset = k / rate;
  const random = randomFor(`${seed}:reading:${pump.index}:${sequence}`);
  const fault = faultAt(pump, offset);
  const reading = fault
    ? faultyReading(fault.problem, pump.nominal, fault.strength, sequence, random)
    : healthyReading(pump.nominal, random);
  return { pump, sequence, offset, reading: roundReading(reading) };
}

export function registrationEvent(fleet: Fleet, pump: Pump, atMs: number): PumpRegisteredEvent {
  return catalog.build("pump.registered", {
    id: rootEventId(`${fleet.options.seed}:registered:${pump.assetId}@${atMs}`),
    source: SIMULATOR_SOURCE,
    subject: pump.assetId,
    time: new Date(atMs).toISOString(),
    data: pump.registration,
  });
}

/** The k-th reading as an event; its time is `startMs` plus the reading's offset. */
export function readingEvent(fleet: Fleet, k: number, startMs: number): PumpMetricEvent {
  const { pump, sequence, offset, reading } = readingAt(fleet, k);
  const timestamp = new Date(startMs + Math.round(offset * 1000)).toISOString();
  return catalog.build("pump.metric.reported", {
    id: rootEventId(`${fleet.options.seed}:metric:${pump.assetId}:${sequence}@${startMs}`),
    source: SIMULATOR_SOURCE,
    subject: pump.assetId,
    time: timestamp,
    data: { assetId: pump.assetId, ...reading, timestamp },
  });
}

/** Ground truth: which pumps went wrong, with which problem, and when. */
export function fleetSummary(fleet: Fleet): FleetSummary {
  const faulty = fleet.pumps.flatMap((pump) =>
    pump.fault ? [{ assetId: pump.assetId, site: pump.site, ...pump.fault }] : [],
  );
  const byProblem = Object.fromEntries(PROBLEMS.map((problem) => [problem, 0])) as Record<Problem, number>;
  for (const fault of faulty) byProblem[fault.problem] += 1;
  return {
    seed: fleet.options.seed,
    pumps: fleet.pumps.length,
    healthy: fleet.pumps.length - faulty.length,
    faulty,
    byProblem,
  };
}
