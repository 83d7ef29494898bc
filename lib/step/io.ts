// What a batch runner is given to reach the world: the store, the producer, the clock and the deadline.
import type { Kafka, Producer } from "kafkajs";
import { createIdempotentProducer, createKafka } from "../kafka/client.ts";
import { kafkaSettingsFromEnv, kafkaSettingsFromParams, requireKafkaSettings } from "../kafka/config.ts";
import { type Deadline, isTransientStoreError, retryWithinDeadline } from "../retry.ts";
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

/**
 * The Kafka client id of the running action: its fully qualified name (`__OW_ACTION_NAME`, e.g. `/ns/saga/assets`)
 * as `ns.saga.assets`, so the broker's logs and client quotas tell actions and namespaces apart; `ow-saga` outside
 * OpenWhisk.
 */
export function actionClientId(env: Record<string, string | undefined> = process.env): string {
  const name = env.__OW_ACTION_NAME?.replace(/^\/+/, "").replaceAll("/", ".");
  return name ? name.replace(/[^A-Za-z0-9._-]/g, "_") : "ow-saga";
}

/** Parameters win over the environment, so a deployed action uses what was bound to it. */
export function clientsFor(params: Record<string, unknown>): StepClients {
  const clientId = actionClientId();
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

/** A store request, tried again while the store's failures are transient. */
export type StoreCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** The one way the kit calls the store: transient failures (429 with its Retry-After, 5xx, a lost connection) are
 * tried again until only the deadline's reserve is left, then GaveUp. */
export const storeCallWithin =
  (deadline: Deadline, io: { now: () => number; sleep?: (ms: number) => Promise<void> }): StoreCall =>
  (fn) =>
    retryWithinDeadline(fn, { deadline, now: io.now, isTransient: isTransientStoreError, sleep: io.sleep });
