// What a batch runner is given to reach the world: the store, the producer, the clock and the deadline.
import type { Kafka, Producer } from "kafkajs";
import { describeError, SagaError, statusOf } from "../errors.ts";
import { createIdempotentProducer, createKafka } from "../kafka/client.ts";
import { kafkaSettingsFromEnv, kafkaSettingsFromParams, requireKafkaSettings } from "../kafka/config.ts";
import { type Cloudant, createCloudant } from "../store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv, storeSettingsFromParams } from "../store/config.ts";

/** Points where a test stops the batch as if the container died there: a hook that throws ends the activation. */
export interface CrashPoints {
  afterLanding?: () => void | Promise<void>;
  beforeWrite?: () => void | Promise<void>;
  afterWrite?: () => void | Promise<void>;
  afterPublish?: () => void | Promise<void>;
}

export interface BatchIO {
  cloudant: Cloudant;
  producer: () => Promise<Producer>;
  now: () => number;
  /** Epoch ms: the activation's deadline (__OW_DEADLINE). */
  deadline: number;
  sleep?: (ms: number) => Promise<void>;
  crash?: CrashPoints;
  /** Non-secret parameters bound to the action (policies such as a deadline length), handed to handlers. */
  config?: Readonly<Record<string, unknown>>;
  /** Where the one summary line per activation goes (the activation's log); default console.log. */
  log?: (line: string) => void;
}

// Kafka and Cloudant clients for an action, built from its bound parameters (or the environment) and kept for the
// life of the container, so warm activations reuse connections.

export interface StepClients {
  cloudant: Cloudant;
  kafka: Kafka;
  /** Connected on first use. */
  producer: () => Promise<Producer>;
}

const cache = new Map<string, StepClients>();
const connectedProducers = new Set<Producer>();

/** Parameters win over the environment, so a deployed action uses what was bound to it. */
export function clientsFor(params: Record<string, unknown>, clientId: string): StepClients {
  const kafka = requireKafkaSettings(
    kafkaSettingsFromParams(params, clientId) ?? kafkaSettingsFromEnv(process.env, clientId),
    "kafka_brokers_sasl (or KAFKA_BROKERS)",
  );
  const store = requireStoreSettings(
    storeSettingsFromParams(params) ?? storeSettingsFromEnv(),
    "cloudant_url (or CLOUDANT_URL)",
  );
  const cacheKey = JSON.stringify([kafka, store]);
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const kafkaClient = createKafka(kafka);
  const producer = createIdempotentProducer(kafkaClient);
  let connected: Promise<Producer> | undefined;
  const clients: StepClients = {
    cloudant: createCloudant(store),
    kafka: kafkaClient,
    producer: () => {
      connected ??= producer.connect().then(
        () => {
          connectedProducers.add(producer);
          return producer;
        },
        (err: unknown) => {
          connected = undefined; // try again on the next call
          throw err;
        },
      );
      return connected;
    },
  };
  cache.set(cacheKey, clients);
  return clients;
}

/** Disconnects every cached producer (tests and benchmarks; a container simply ends). */
export async function closeAllClients(): Promise<void> {
  const producers = [...connectedProducers];
  cache.clear();
  connectedProducers.clear();
  await Promise.all(producers.map((producer) => producer.disconnect().catch(() => undefined)));
}

// Which failures pass by themselves (retry them) and which do not (report them), and retrying within a deadline.

/** Store answers worth retrying: 429 (Cloudant's throughput limit), 408, 5xx; or no answer at all. */
export function isTransientStoreError(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return true;
  return status === 429 || status === 408 || status >= 500;
}

/**
 * KafkaJS marks errors it considers passing as retriable; a connection failure has no answer at all. When its own
 * retries run out it wraps the last failure (KafkaJSNonRetriableError, `cause`): a broker that is restarting is
 * still passing, so the chain of causes is looked at.
 */
export function isTransientKafkaError(err: unknown): boolean {
  for (
    let e = err as { retriable?: boolean; name?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth += 1
  ) {
    if (e.retriable === true) return true;
    if (
      /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError|KafkaJSBrokerNotFound/.test(
        e.name ?? "",
      )
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

export interface Deadline {
  /** Epoch milliseconds by which the activation must have answered. */
  at: number;
  /** Time kept in hand at the end for the work after the retried call (sending to the retry topic, answering). */
  reserveMs: number;
}

export interface BackoffOptions {
  deadline: Deadline;
  now: () => number;
  isTransient: (err: unknown) => boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class GaveUp extends SagaError {
  override name = "GaveUp";
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts: ${describeError(lastError)}`, { cause: lastError });
  }
}

/** How long an answer asked to be left alone (Retry-After: seconds or an HTTP date), in ms; undefined when it did not. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const raw = (err as { headers?: Record<string, unknown> } | null)?.headers?.["retry-after"];
  if (raw === undefined || raw === null || raw === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Calls fn until it succeeds, a non-transient error occurs (rethrown as is), or the next wait would run into the
 * deadline's reserve (GaveUp). Delays double from firstDelayMs up to maxDelayMs; an answer's Retry-After is honoured.
 */
export async function retryWithinDeadline<T>(fn: () => Promise<T>, options: BackoffOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = options.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (!options.isTransient(err)) throw err;
      const wait = retryAfterMs(err, options.now()) ?? delay;
      const budget = options.deadline.at - options.deadline.reserveMs - options.now();
      if (budget < wait) throw new GaveUp(attempt, err);
      await sleep(wait);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  }
}

/** A store request, tried again while the store's failures are transient. */
export type StoreCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** The one way the kit calls the store: transient failures (429 with its Retry-After, 5xx, a lost connection) are
 * tried again until only the deadline's reserve is left, then GaveUp. */
export const storeCallWithin =
  (deadline: Deadline, io: { now: () => number; sleep?: (ms: number) => Promise<void> }): StoreCall =>
  (fn) =>
    retryWithinDeadline(fn, { deadline, now: io.now, isTransient: isTransientStoreError, sleep: io.sleep });
