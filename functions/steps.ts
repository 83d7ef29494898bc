// What every step of this system shares: the catalog, the routes, its retry topic and the dead-letter topic, and
// what topology.ts declares of it. A step's module adds only its handler.
import { ConfigError } from "../lib/config/settings.ts";
import {
  type EntityStepSpec,
  type HandlerContext,
  type Memory,
  remember,
  type StreamStepSpec,
} from "../lib/step/index.ts";
import { catalog, type SagaEvent, type SagaSchemas } from "./events.ts";
import type { ServiceSetting } from "./service-settings.ts";
import { DATABASE, type HandledBy, ROUTES, retryTopicOf, STEPS, type StepName, TOPIC } from "./topology.ts";

/** An event a step handles, its data typed. */
export type StepEvent<N extends StepName> = SagaEvent<HandledBy<N>>;
export type SagaEntityStep<N extends StepName, S> = EntityStepSpec<S, SagaSchemas, HandledBy<N>>;
export type SagaStreamStep<N extends StepName, S> = StreamStepSpec<S, SagaSchemas, HandledBy<N>>;
/** An entity step's decision, typed for step N and its state S. */
export type EntityHandler<N extends StepName, S> = SagaEntityStep<N, S>["handle"];

function stepBasics<N extends StepName>(name: N) {
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

/** An entity step of this system: what every step shares, and what is its own (its handler, its entity). */
export function entitySpec<N extends StepName, S>(
  name: N,
  own: Pick<SagaEntityStep<N, S>, "handle" | "entityOf">,
): SagaEntityStep<N, S> {
  return { ...stepBasics(name), ...own };
}

/** A stream step of this system: what every step shares, and its event-sourcing functions. */
export function streamSpec<N extends StepName, S>(
  name: N,
  own: Pick<SagaStreamStep<N, S>, "streamOf" | "evolve" | "decide" | "project">,
): SagaStreamStep<N, S> {
  return { ...stepBasics(name), ...own };
}

/**
 * A work order a service is done with leaves the map of those it holds and is remembered as closed, so a late or
 * repeated event for it changes nothing.
 */
export function closeOrder<T>(
  held: Readonly<Record<string, T>>,
  closed: Memory,
  workOrderId: string,
  { now, retention }: HandlerContext,
): { held: Record<string, T>; closed: Memory } {
  const { [workOrderId]: _, ...rest } = held;
  return { held: rest, closed: remember(closed, workOrderId, now, retention) };
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
