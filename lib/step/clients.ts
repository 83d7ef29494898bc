// Kafka and Cloudant clients for an action, built from its bound parameters (or the environment) and kept for the
// life of the container, so warm activations reuse connections.
import type { Kafka, Producer } from "kafkajs";
import { createIdempotentProducer, createKafka } from "../kafka/client.ts";
import { kafkaSettingsFromEnv, kafkaSettingsFromParams, requireKafkaSettings } from "../kafka/config.ts";
import { type Cloudant, createCloudant } from "../store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv, storeSettingsFromParams } from "../store/config.ts";

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
