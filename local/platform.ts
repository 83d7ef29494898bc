// The local OpenWhisk's invoker without HTTP: an action invocation passes the throttles, is resolved in the
// registry and runs by its kind (run-action.ts, sequences.ts, compositions.ts); trigger fires (fires.ts); the
// activation records. The work of each job lives in its own module.
import { type Activation, ActivationStore, newActivationId } from "./activations.ts";
import { runComposition } from "./compositions.ts";
import type { LocalOptions } from "./config.ts";
import { startFire } from "./fires.ts";
import type { Invoker, RunOptions } from "./invoker.ts";
import { isTruthy } from "./key-values.ts";
import { ContainerPool } from "./pool.ts";
import { type Identity, Registry, type ResolvedAction } from "./registry.ts";
import { runAction } from "./run-action.ts";
import { runSequence } from "./sequences.ts";
import { ConcurrencyThrottler, RateThrottler } from "./throttle.ts";

export { type Identity, type ResolvedAction, SYSTEM_NAMESPACE } from "./registry.ts";

export class Platform extends Registry implements Invoker {
  readonly activations = new ActivationStore();
  readonly pool: ContainerPool;
  private readonly invokeRate: RateThrottler;
  private readonly fireRate: RateThrottler;
  readonly concurrency: ConcurrencyThrottler;
  private readonly running = new Set<Promise<unknown>>();
  apiHost = "";

  constructor(readonly options: LocalOptions) {
    super();
    this.pool = new ContainerPool(options.maxContainers, options.idleContainerMs);
    this.invokeRate = new RateThrottler(() => options.limits.invokesPerMinute);
    this.fireRate = new RateThrottler(() => options.limits.firesPerMinute);
    this.concurrency = new ConcurrencyThrottler(() => options.limits.concurrent);
  }

  /**
   * What POST /actions does after authentication: throttles, resolution, final parameters; then runs the action in
   * the background. The returned promise settles with the finished activation.
   */
  startInvocation(
    user: Identity,
    fqn: { namespace: string; pkg?: string; name: string },
    payload: Record<string, unknown> | undefined,
  ): { activationId: string; done: Promise<Activation> } {
    this.invokeRate.check();
    this.concurrency.check();
    const resolved = this.resolveAction(user, fqn);
    this.checkFinal(resolved, payload);
    const activationId = newActivationId();
    const done = this.track(
      this.concurrency.track(this.run(user, resolved, payload ?? {}, { id: activationId, topmost: true })),
    );
    return { activationId, done };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    work.then(
      () => this.running.delete(work),
      () => this.running.delete(work),
    );
    return work;
  }

  run(
    user: Identity,
    resolved: ResolvedAction,
    payload: Record<string, unknown>,
    opts: RunOptions,
  ): Promise<Activation> {
    if (isTruthy(resolved.action.annotations, "conductor")) {
      return runComposition(this, user, resolved, payload, opts);
    }
    if (resolved.action.exec.kind === "sequence") {
      return runSequence(this, user, resolved, payload, opts);
    }
    return runAction(this, user, resolved, payload, opts);
  }

  /** Keeps a finished activation, so that GET /activations finds it. */
  store(activation: Activation): Activation {
    this.activations.add(activation);
    return activation;
  }

  /** POST /triggers/{name}: undefined when no rule is active (204), else the trigger activation id (202). */
  fireTrigger(
    user: Identity,
    name: string,
    payload: Record<string, unknown> | undefined,
    headers: Record<string, string>,
  ): string | undefined {
    this.fireRate.check();
    const fired = startFire(this, user, name, payload, headers);
    if (!fired) return undefined;
    void this.track(fired.work);
    return fired.activationId;
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    await Promise.allSettled([...this.running]);
  }
}
