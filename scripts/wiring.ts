// serverless.yml checked against the one declaration of the wiring (functions/topology.ts and functions/actions.ts).
// The YAML stays the file people read and edit for a deploy (its ${env:…} settings, feeds and annotations); what
// it must agree on is checked here, by the unit tests and before every build:
// - each step's function exists and is bound to the triggers of the topics it consumes and of its retry topic;
// - each of those triggers exists and reads that topic;
// - each Kafka trigger feeds some step, and a step is bound to no Kafka trigger it does not consume;
// - each function is built (an action or a conductor), and each action built is deployed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ACTION_ENTRIES, CONDUCTORS } from "../functions/actions.ts";
import { actionOf, STEP_NAMES, stepSources } from "../functions/topology.ts";
import { exposureProblems, type ServerlessExposure } from "./exposure.ts";
import { repoRoot } from "./stack/paths.ts";

type TriggerEvent = { trigger?: string | { name?: string } };

/** The parts of serverless.yml the wiring lives in. */
export interface ServerlessWiring {
  functions?: Record<string, { events?: TriggerEvent[] } | null>;
  resources?: { triggers?: Record<string, { feed?: string; feed_parameters?: { topic?: string } } | null> };
}

/** What the code declares: each step's action with its (topic, trigger) sources, and every action that is built. */
export interface DeclaredWiring {
  steps: { name: string; action: string; sources: { topic: string; trigger: string }[] }[];
  actions: string[];
}

export const DECLARED: DeclaredWiring = {
  steps: STEP_NAMES.map((name) => ({ name, action: actionOf(name), sources: stepSources(name) })),
  actions: [...Object.keys(ACTION_ENTRIES), ...Object.keys(CONDUCTORS)],
};

export function loadServerlessWiring(path = join(repoRoot, "serverless.yml")): ServerlessWiring {
  // merge: the triggers share their feed parameters through `<<: *kafka`.
  return parse(readFileSync(path, "utf8"), { merge: true }) as ServerlessWiring;
}

const triggerName = (event: TriggerEvent) => (typeof event.trigger === "string" ? event.trigger : event.trigger?.name);

/** Every disagreement between serverless.yml and the declaration, one line each; none when they agree. */
export function wiringProblems(config: ServerlessWiring, declared: DeclaredWiring = DECLARED): string[] {
  const problems: string[] = [];
  const functions = config.functions ?? {};
  const triggers = config.resources?.triggers ?? {};
  const boundTo = (action: string) => (functions[action]?.events ?? []).flatMap((e) => triggerName(e) ?? []);

  for (const step of declared.steps) {
    if (!Object.hasOwn(functions, step.action)) {
      problems.push(`step ${step.name}: serverless.yml has no function ${step.action}`);
      continue;
    }
    const bound = boundTo(step.action);
    for (const { topic, trigger } of step.sources) {
      const declaredTrigger = triggers[trigger];
      if (!declaredTrigger)
        problems.push(`step ${step.name} consumes ${topic}: serverless.yml has no trigger ${trigger}`);
      else if (declaredTrigger.feed_parameters?.topic !== topic) {
        problems.push(`trigger ${trigger} reads ${declaredTrigger.feed_parameters?.topic ?? "no topic"}, not ${topic}`);
      }
      if (!bound.includes(trigger)) {
        problems.push(
          `step ${step.name} consumes ${topic}: function ${step.action} has no rule from trigger ${trigger}`,
        );
      }
    }
    const own = new Set(step.sources.map((source) => source.trigger));
    for (const trigger of bound) {
      const topic = triggers[trigger]?.feed_parameters?.topic;
      if (topic !== undefined && !own.has(trigger)) {
        problems.push(
          `function ${step.action} is bound to trigger ${trigger} (${topic}), which step ${step.name} does not consume`,
        );
      }
    }
  }

  const fed = new Set(declared.steps.flatMap((step) => step.sources.map((source) => source.trigger)));
  for (const [name, trigger] of Object.entries(triggers)) {
    const topic = trigger?.feed_parameters?.topic;
    if (topic !== undefined && !fed.has(name)) problems.push(`trigger ${name} (${topic}) feeds no step`);
  }
  for (const [action, fn] of Object.entries(functions)) {
    for (const trigger of (fn?.events ?? []).flatMap((e) => triggerName(e) ?? [])) {
      if (!Object.hasOwn(triggers, trigger))
        problems.push(`function ${action} is bound to ${trigger}, which is not declared`);
    }
    if (!declared.actions.includes(action))
      problems.push(`function ${action} is built by nothing (functions/actions.ts)`);
  }
  for (const action of declared.actions) {
    if (!Object.hasOwn(functions, action))
      problems.push(`action ${action} is built but serverless.yml never deploys it`);
  }
  return problems;
}

/** Throws with every problem when serverless.yml and the declaration disagree, or it exposes too much. */
export function assertWiring(config: ServerlessWiring = loadServerlessWiring()): void {
  const problems = [...wiringProblems(config), ...exposureProblems(config as ServerlessExposure)];
  if (problems.length > 0) {
    throw new Error(`serverless.yml does not match functions/topology.ts:\n  ${problems.join("\n  ")}`);
  }
}
