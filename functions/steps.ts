// What every step of this system shares: the catalog, the routes, its retry topic and the dead-letter topic.
import { ConfigError } from "../lib/config/settings.ts";
import { catalog } from "./events.ts";
import { DATABASE, ROUTES, retryTopicOf, type Service, TOPIC } from "./topology.ts";

export function stepBasics(name: string, service: Service) {
  return {
    name,
    source: `/ow-saga/${service}`,
    catalog,
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
  name: string,
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
