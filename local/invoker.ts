// What the kinds of action (run-action.ts, sequences.ts, compositions.ts) and trigger fires (fires.ts) need of the
// platform: its registry, container pool and activation store, and a way to run or start another action. The
// Platform implements it; naming it here keeps those modules below the Platform, which imports them.
import type { Activation, ActivationStore } from "./activations.ts";
import type { LocalOptions } from "./config.ts";
import type { ContainerPool } from "./pool.ts";
import type { Identity, Registry, ResolvedAction } from "./registry.ts";

export interface Accounting {
  components: number;
  conductors: number;
}

export interface RunOptions {
  id?: string;
  cause?: string;
  accounting?: Accounting;
  topmost?: boolean;
}

export interface Invoker extends Registry {
  readonly options: LocalOptions;
  readonly pool: ContainerPool;
  readonly activations: ActivationStore;
  readonly apiHost: string;
  run(
    user: Identity,
    resolved: ResolvedAction,
    payload: Record<string, unknown>,
    opts: RunOptions,
  ): Promise<Activation>;
  startInvocation(
    user: Identity,
    fqn: { namespace: string; pkg?: string; name: string },
    payload: Record<string, unknown> | undefined,
  ): { activationId: string; done: Promise<Activation> };
  store(activation: Activation): Activation;
}

/** How the platform runs one kind of action: a plain one, a sequence, a composition. */
export type Runner = (
  platform: Invoker,
  user: Identity,
  resolved: ResolvedAction,
  payload: Record<string, unknown>,
  opts: RunOptions,
) => Promise<Activation>;
