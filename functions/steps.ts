// What every step of this system shares: the catalog, the routes, its retry topic and the dead-letter topic.
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

/** A number from the action's bound parameters, or the default. */
export function configNumber(config: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const value = Number(config[name] ?? fallback);
  return Number.isFinite(value) ? value : fallback;
}
