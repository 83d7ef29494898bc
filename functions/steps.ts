// What every step of this system shares: the catalog, the routes, its retry topic and the dead-letter topic, and
// what topology.ts declares of it. A step's module adds only its handler.
import { ConfigError } from "../lib/config/settings.ts";
import type { EntityStepSpec, StreamStepSpec } from "../lib/step/index.ts";
import { catalog, type SagaEvent, type SagaSchemas } from "./events.ts";
import type { ServiceSetting } from "./service-settings.ts";
import { DATABASE, type HandledBy, ROUTES, retryTopicOf, STEPS, type StepName, TOPIC } from "./topology.ts";

/** An event a step handles, its data typed. */
export type StepEvent<N extends StepName> = SagaEvent<HandledBy<N>>;
export type SagaEntityStep<N extends StepName, S> = EntityStepSpec<S, SagaSchemas, HandledBy<N>>;
export type SagaStreamStep<N extends StepName, S> = StreamStepSpec<S, SagaSchemas, HandledBy<N>>;

export function stepBasics<N extends StepName>(name: N) {
  const { service, handles } = STEPS[name];
  return {
    name,
    source: `/ow-saga/${service}`,
    catalog,
    // A tuple of HandledBy<N> by definition; the compiler cannot see through a generic N.
    handles: handles as readonly HandledBy<N>[],
    database: DATABASE[service],
    routes: ROUTES,
    topics: { retry: retryTopicOf(name), deadLetter: TOPIC.deadLetter },
  };
}

/**
 * A count bound to the action (stock, capacity, a length in ms): a whole number of at least `min`, or the default
 * when unset. Anything else is a ConfigError naming the parameter: a count of 2.5 would break every comparison.
 */
export function configCount(
  config: Readonly<Record<string, unknown>>,
  name: ServiceSetting,
  fallback: number,
  min = 0,
): number {
  const raw = config[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(name, `must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
