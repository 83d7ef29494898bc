// The producer loop: registers the fleet, then streams its readings at the chosen rate, keyed by assetId, until
// the planned readings are sent or the signal aborts. Reused by the CLI, npm start and the end-to-end tests.
import { setTimeout as sleep } from "node:timers/promises";
import type { Message, Producer } from "kafkajs";
import { TOPIC, TOPICS } from "../../functions/topology.ts";
import { describeError } from "../../lib/errors.ts";
import type { TopicSpec } from "../../lib/kafka/client.ts";
import { isTransientKafkaError } from "../../lib/step/tools.ts";
import { type FaultTruth, fleetSummary, planFleet, readingEvent, registrationEvent } from "./fleet.ts";
import type { SimulateOptions } from "./options.ts";
import { randomFor } from "./prng.ts";
import type { Progress } from "./progress.ts";
import type { Problem } from "./signatures.ts";

export interface SimulateDeps {
  producer: Pick<Producer, "send">;
  /** How long a send keeps trying while Kafka does not answer (a broker restarting), before the run fails. */
  outageBudgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  /** Called at most every PROGRESS_MS and once at the end. */
  progress?: (progress: Progress) => void;
  /** Aborting stops the stream after the send in flight (Ctrl-C). */
  signal?: AbortSignal;
  now?: () => number;
}

export interface FaultReport extends FaultTruth {
  /** startsAt / clearsAt as times, from the stream's start. */
  startsAtTime: string;
  clearsAtTime?: string;
  /** Whether the stream got as far as the fault's start (false only when interrupted early). */
  reached: boolean;
}

export interface SimulationReport {
  seed: string;
  pumps: number;
  registered: number;
  /** Readings sent (distinct events) and planned. */
  readings: number;
  totalReadings: number;
  /** Kafka records sent: registrations + readings, each as many times as `duplicate` or `maxCopies` says. */
  records: number;
  duplicate: boolean;
  interrupted: boolean;
  topics: { assets: string; metrics: string };
  /** When the metric stream started (the first reading's timestamp). */
  startedAt: string;
  elapsedMs: number;
  recordsPerSecond: number;
  healthy: number;
  faulty: FaultReport[];
  byProblem: Record<Problem, number>;
}

const MAX_BATCH = 500;
/** A broker restart takes seconds; one minute without an answer is an outage to report, not to sit out. */
export const DEFAULT_OUTAGE_BUDGET_MS = 60_000;

/**
 * Wraps a send so that it rides out Kafka being away (a broker restarting): failures KafkaJS calls retriable, or
 * connection failures, are tried again with backoff until the budget is spent, saying once that Kafka is away and
 * once that it is back. Records sent twice by a retried send are duplicates, which the steps absorb.
 */
export function kafkaPatience<A extends unknown[]>(
  send: (...args: A) => Promise<unknown>,
  budgetMs: number,
  log: (line: string) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const since = Date.now();
    let delay = 250;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await send(...args);
        if (attempt > 1) log(`Kafka answers again after ${((Date.now() - since) / 1000).toFixed(1)} s; sending on`);
        return;
      } catch (err) {
        if (!isTransientKafkaError(err) || Date.now() - since + delay > budgetMs) throw err;
        if (attempt === 1)
          log(`Kafka does not answer (${describeError(err)}); retrying for up to ${budgetMs / 1000} s`);
        await sleep(delay);
        delay = Math.min(delay * 2, 4_000);
      }
    }
  };
}
const PROGRESS_MS = 200;
const MAX_SLEEP_MS = 100;

const partitionsOf = (topic: string) => TOPICS.find((spec) => spec.topic === topic)?.partitions ?? 4;

/** The topics the simulator writes to, for ensureTopics: as many partitions as TOPICS gives the default topics. */
export function simulatorTopics(options: Pick<SimulateOptions, "topicAssets" | "topicMetrics">): TopicSpec[] {
  return [
    { topic: options.topicAssets, partitions: partitionsOf(TOPIC.assets) },
    { topic: options.topicMetrics, partitions: partitionsOf(TOPIC.metrics) },
  ];
}

export async function simulate(options: SimulateOptions, deps: SimulateDeps): Promise<SimulationReport> {
  const { producer, signal } = deps;
  const log = deps.log ?? (() => undefined);
  const now = deps.now ?? Date.now;
  const fleet = planFleet(options);
  const copies = options.duplicate ? 2 : 1;
  const began = now();
  let registered = 0;
  let readings = 0;
  let records = 0;
  let lastProgress = 0;
  let phase: Progress["phase"] = "registering";
  const progress = (force = false) => {
    if (!deps.progress || (!force && now() - lastProgress < PROGRESS_MS)) return;
    lastProgress = now();
    deps.progress({
      phase,
      pumps: fleet.pumps.length,
      registered,
      readings,
      totalReadings: fleet.totalReadings,
      records,
      elapsedMs: now() - began,
    });
  };
  const copiesOf = (event: { id: string }) =>
    options.maxCopies && options.maxCopies > 1
      ? 1 + Math.floor(randomFor(`${options.seed}:copies:${event.id}`)() * options.maxCopies)
      : copies;
  const sendOnce = kafkaPatience(
    (topic: string, messages: Message[]) => producer.send({ topic, messages }),
    deps.outageBudgetMs ?? DEFAULT_OUTAGE_BUDGET_MS,
    log,
    deps.sleep,
  );
  const send = async (topic: string, events: { subject: string; id: string }[]) => {
    const messages: Message[] = events.flatMap((event) => {
      const message = { key: event.subject, value: JSON.stringify(event) };
      return Array.from({ length: copiesOf(event) }, () => ({ ...message }));
    });
    await sendOnce(topic, messages);
    records += messages.length;
  };

  log(
    `simulating ${fleet.pumps.length} pumps (seed ${options.seed}, ${Math.round(options.pumps * options.faulty)} faulty), ` +
      `${fleet.totalReadings} readings at ${options.rate}/s for ${options.seconds} s` +
      `${options.maxCopies && options.maxCopies > 1 ? `, each record 1 to ${options.maxCopies} times` : options.duplicate ? ", every record twice" : ""}` +
      ` -> ${options.topicAssets}, ${options.topicMetrics}`,
  );
  progress(true);
  const registeredAt = options.startAt ?? now();
  for (let i = 0; i < fleet.pumps.length && !signal?.aborted; i += MAX_BATCH) {
    const batch = fleet.pumps.slice(i, i + MAX_BATCH);
    await send(
      options.topicAssets,
      batch.map((pump) => registrationEvent(fleet, pump, registeredAt)),
    );
    registered += batch.length;
    progress();
  }

  phase = "streaming";
  const streamStart = now();
  const startMs = options.startAt ?? streamStart;
  const perReadingMs = 1000 / options.rate;
  while (readings < fleet.totalReadings && !signal?.aborted) {
    const due = Math.min(fleet.totalReadings, Math.floor((now() - streamStart) / perReadingMs) + 1);
    if (due > readings) {
      const upTo = Math.min(due, readings + MAX_BATCH);
      const events = [];
      for (let k = readings; k < upTo; k++) events.push(readingEvent(fleet, k, startMs));
      await send(options.topicMetrics, events);
      readings = upTo;
    } else {
      const wait = Math.min(MAX_SLEEP_MS, Math.max(1, streamStart + readings * perReadingMs - now()));
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
    progress();
  }

  const interrupted = signal?.aborted === true && readings < fleet.totalReadings;
  phase = interrupted ? "interrupted" : "done";
  progress(true);
  const elapsedMs = now() - began;
  const summary = fleetSummary(fleet);
  const at = (offset: number) => new Date(startMs + Math.round(offset * 1000)).toISOString();
  return {
    seed: options.seed,
    pumps: fleet.pumps.length,
    registered,
    readings,
    totalReadings: fleet.totalReadings,
    records,
    duplicate: options.duplicate,
    interrupted,
    topics: { assets: options.topicAssets, metrics: options.topicMetrics },
    startedAt: new Date(startMs).toISOString(),
    elapsedMs,
    recordsPerSecond: elapsedMs > 0 ? (records * 1000) / elapsedMs : 0,
    healthy: summary.healthy,
    faulty: summary.faulty.map((fault) => ({
      ...fault,
      startsAtTime: at(fault.startsAt),
      reached: fault.startsAt < readings / options.rate,
      ...(fault.clearsAt !== undefined ? { clearsAtTime: at(fault.clearsAt) } : {}),
    })),
    byProblem: summary.byProblem,
  };
}
