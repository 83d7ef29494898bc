// The controller and invoker of the local OpenWhisk without HTTP: entities, action execution (containers, sequences,
// conductor actions), throttles, trigger fires, activation records.
import { SagaError } from "../lib/errors.ts";
import {
  type Activation,
  type ActivationResponse,
  ActivationStore,
  APPLICATION_ERROR,
  DEVELOPER_ERROR,
  newActivationId,
  SUCCESS,
  WHISK_ERROR,
} from "./activations.ts";
import type { LocalOptions } from "./config.ts";
import { Container, ContainerGone } from "./container.ts";
import {
  type Action,
  type ActionLimits,
  actionKey,
  annotation,
  type BuiltinHandler,
  DEFAULT_KIND,
  DEFAULT_LIMITS,
  isTruthy,
  type KeyValue,
  mergeParams,
  Namespace,
  resolveName,
  toObject,
} from "./entities.ts";
import { ApiError, Messages, transactionId } from "./errors.ts";
import { ContainerPool } from "./pool.ts";
import { ConcurrencyThrottler, RateThrottler } from "./throttle.ts";

export const SYSTEM_NAMESPACE = "whisk.system";

export interface Identity {
  namespace: string;
  subject: string;
  authKey: string;
}

export interface ResolvedAction {
  action: Action;
  /** package < binding < action */
  parameters: KeyValue[];
  /** "ns/pkg/name" as activation records and rules name it */
  path: string;
}

interface Accounting {
  components: number;
  conductors: number;
}

interface RunOptions {
  id?: string;
  cause?: string;
  accounting?: Accounting;
  topmost?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export class Platform {
  readonly namespaces = new Map<string, Namespace>();
  readonly activations = new ActivationStore();
  readonly pool: ContainerPool;
  private readonly invokeRate: RateThrottler;
  private readonly fireRate: RateThrottler;
  readonly concurrency: ConcurrencyThrottler;
  private readonly running = new Set<Promise<unknown>>();
  apiHost = "";

  constructor(readonly options: LocalOptions) {
    this.pool = new ContainerPool(options.maxContainers, options.idleContainerMs);
    this.invokeRate = new RateThrottler(() => options.limits.invokesPerMinute);
    this.fireRate = new RateThrottler(() => options.limits.firesPerMinute);
    this.concurrency = new ConcurrencyThrottler(() => options.limits.concurrent);
  }

  ns(name: string): Namespace {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = new Namespace(name);
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /** Registers an in-process action of the platform, e.g. /whisk.system/messaging/messageHubFeed. */
  registerBuiltin(pkg: string, name: string, handler: BuiltinHandler, annotations: KeyValue[] = []): void {
    const ns = this.ns(SYSTEM_NAMESPACE);
    if (!ns.packages.has(pkg)) {
      ns.packages.set(pkg, {
        namespace: SYSTEM_NAMESPACE,
        name: pkg,
        version: "0.0.1",
        publish: true,
        parameters: [],
        annotations: [],
        updated: Date.now(),
      });
    }
    ns.actions.set(actionKey(pkg, name), {
      namespace: SYSTEM_NAMESPACE,
      pkg,
      name,
      version: "0.0.1",
      publish: true,
      exec: { kind: DEFAULT_KIND, code: "// built into the local OpenWhisk", binary: false },
      annotations: [{ key: "exec", value: "nodejs" }, ...annotations],
      parameters: [],
      limits: { ...DEFAULT_LIMITS },
      updated: Date.now(),
      rev: 1,
      builtin: handler,
    });
  }

  /** Finds an action and merges package (and binding) parameters under its own. */
  resolveAction(user: Identity, fqn: { namespace: string; pkg?: string; name: string }): ResolvedAction {
    const ns = this.namespaces.get(fqn.namespace);
    let parameters: KeyValue[] = [];
    let pkgNamespace = fqn.namespace;
    let pkgName = fqn.pkg;
    if (fqn.pkg) {
      const pkg = ns?.packages.get(fqn.pkg);
      if (!pkg) throw new ApiError(404, Messages.resourceDoesNotExist);
      if (fqn.namespace !== user.namespace && !pkg.publish) throw new ApiError(403, Messages.notAuthorized);
      if (pkg.binding) {
        const bound = this.namespaces.get(pkg.binding.namespace)?.packages.get(pkg.binding.name);
        if (!bound) throw new ApiError(404, Messages.resourceDoesNotExist);
        parameters = mergeParams(bound.parameters, pkg.parameters);
        pkgNamespace = pkg.binding.namespace;
        pkgName = pkg.binding.name;
      } else {
        parameters = pkg.parameters;
      }
    } else if (fqn.namespace !== user.namespace) {
      throw new ApiError(403, Messages.notAuthorized);
    }
    const action = this.namespaces.get(pkgNamespace)?.actions.get(actionKey(pkgName, fqn.name));
    if (!action) throw new ApiError(404, Messages.resourceDoesNotExist);
    return {
      action,
      parameters: mergeParams(parameters, action.parameters),
      path: `${action.namespace}${action.pkg ? `/${action.pkg}` : ""}/${action.name}`,
    };
  }

  /** Parameters an invocation may not override: all defined ones when the action is annotated final. */
  checkFinal(resolved: ResolvedAction, payload: Record<string, unknown> | undefined): void {
    if (!payload || !isTruthy(resolved.action.annotations, "final")) return;
    const defined = new Set(
      resolved.parameters.filter((p) => p.value !== null && p.value !== undefined && p.value !== "").map((p) => p.key),
    );
    if (Object.keys(payload).some((k) => defined.has(k))) throw new ApiError(400, Messages.parametersNotAllowed);
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
      return this.runComposition(user, resolved, payload, opts);
    }
    if (resolved.action.exec.kind === "sequence") {
      return this.runSequence(user, resolved, payload, opts);
    }
    return this.runSimple(user, resolved, payload, opts);
  }

  private baseAnnotations(resolved: ResolvedAction, opts: RunOptions, waitTime: number): KeyValue[] {
    return [
      { key: "path", value: resolved.path },
      { key: "waitTime", value: waitTime },
      ...(opts.cause ? [{ key: "causedBy", value: "sequence" }] : []),
    ];
  }

  private store(activation: Activation): Activation {
    this.activations.add(activation);
    return activation;
  }

  private async runSimple(
    user: Identity,
    resolved: ResolvedAction,
    payload: Record<string, unknown>,
    opts: RunOptions,
  ): Promise<Activation> {
    const { action } = resolved;
    const id = opts.id ?? newActivationId();
    const received = Date.now();
    const initParams = resolved.parameters.filter((p) => p.init);
    const initKeys = new Set(initParams.map((p) => p.key));
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...toObject(resolved.parameters), ...payload })) {
      if (!initKeys.has(k)) args[k] = v;
    }
    const limits: ActionLimits = action.limits;
    const logs: string[] = [];
    let response: ActivationResponse;
    let timedOut = false;
    let initTime: number | undefined;
    let start = received;

    if (action.builtin) {
      start = Date.now();
      response = await this.runBuiltin(action.builtin, args, user, id, logs, limits.timeout);
    } else {
      const key = `${resolved.path}@${action.rev}`;
      let acquired: Awaited<ReturnType<ContainerPool["acquire"]>>;
      try {
        acquired = await this.pool.acquire(key, limits.concurrency, () => this.spawn(limits));
      } catch (err) {
        return this.store(
          this.record(
            user,
            resolved,
            id,
            received,
            Date.now(),
            opts,
            { statusCode: WHISK_ERROR, result: { error: String(err) } },
            [],
            [],
          ),
        );
      }
      const { container, cold } = acquired;
      start = Date.now();
      const collected = container.collectLogs();
      let discard = false;
      try {
        if (cold) {
          await container.started();
          const initStart = Date.now();
          const env: Record<string, unknown> = { __OW_API_HOST: this.apiHost, ...toObject(initParams) };
          const init = await container.post(
            "/init",
            JSON.stringify({
              value: {
                name: action.name,
                main: action.exec.main ?? "main",
                code: action.exec.code,
                binary: action.exec.binary ?? false,
                env,
              },
            }),
            limits.timeout,
          );
          initTime = Date.now() - initStart;
          if (init.status !== 200) {
            discard = true;
            throw new InitFailed(init.body);
          }
          container.initialized = true;
        }
        const deadline = Date.now() + limits.timeout;
        const runBody: Record<string, unknown> = {
          value: args,
          namespace: user.namespace,
          action_name: `/${resolved.path}`,
          action_version: action.version,
          activation_id: id,
          transaction_id: transactionId(),
          deadline: String(deadline),
        };
        if (isTruthy(action.annotations, "provide-api-key", true)) runBody.api_key = user.authKey;
        const ran = await container.post("/run", JSON.stringify(runBody), limits.timeout);
        response = this.mapRunResponse(ran.status, ran.body);
        if (response.statusCode === DEVELOPER_ERROR) discard = true;
      } catch (err) {
        discard = true;
        response = this.mapFailure(err, limits, cold && !container.initialized);
        timedOut = err instanceof ContainerGone && err.reason === "timeout";
      }
      if (discard) await container.destroy();
      await Promise.race([collected.finished, delay(discard ? 200 : 2_000)]);
      logs.push(...collected.lines);
      await this.pool.release(container, discard);
    }
    const end = Date.now();
    const annotations: KeyValue[] = [
      ...this.baseAnnotations(resolved, opts, start - received),
      { key: "kind", value: action.exec.kind },
      { key: "timeout", value: timedOut },
      { key: "limits", value: { ...limits } },
      ...(initTime !== undefined ? [{ key: "initTime", value: initTime }] : []),
    ];
    return this.store(this.record(user, resolved, id, start, end, opts, response, logs, annotations));
  }

  private record(
    user: Identity,
    resolved: ResolvedAction,
    id: string,
    start: number,
    end: number,
    opts: RunOptions,
    response: ActivationResponse,
    logs: string[],
    annotations: KeyValue[],
  ): Activation {
    return {
      namespace: user.namespace,
      name: resolved.action.name,
      version: resolved.action.version,
      subject: user.subject,
      activationId: id,
      start,
      end,
      duration: end - start,
      response,
      logs,
      annotations,
      publish: false,
      ...(opts.cause ? { cause: opts.cause } : {}),
    };
  }

  private spawn(limits: ActionLimits): Container {
    return new Container(
      {
        __OW_API_HOST: this.apiHost,
        ...(limits.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: "true" } : {}),
      },
      limits.memory,
      limits.logs * 1024 * 1024,
    );
  }

  private async runBuiltin(
    handler: BuiltinHandler,
    args: Record<string, unknown>,
    user: Identity,
    id: string,
    logs: string[],
    timeoutMs: number,
  ): Promise<ActivationResponse> {
    const log = (line: string) => logs.push(`${new Date().toISOString()} stdout: ${line}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        handler(args, { namespace: user.namespace, activationId: id, apiHost: this.apiHost, log }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BuiltinTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (isObject(result) && result.error !== undefined) return { statusCode: APPLICATION_ERROR, result };
      return { statusCode: SUCCESS, result: result ?? {} };
    } catch (err) {
      if (err instanceof BuiltinTimeout) {
        return { statusCode: DEVELOPER_ERROR, result: { error: Messages.timedOut(timeoutMs, false) } };
      }
      return { statusCode: APPLICATION_ERROR, result: { error: err instanceof Error ? err.message : err } };
    } finally {
      clearTimeout(timer);
    }
  }

  private mapRunResponse(status: number, body: string): ActivationResponse {
    const size = Buffer.byteLength(body);
    const max = this.options.limits.resultBytes;
    if (size > max) {
      return {
        statusCode: DEVELOPER_ERROR,
        result: { error: Messages.truncatedResponse(body.slice(0, max), size, max) },
      };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { statusCode: DEVELOPER_ERROR, result: { error: Messages.invalidRunResponse(body) } };
    }
    if (status === 200) {
      if (Array.isArray(parsed)) return { statusCode: SUCCESS, result: parsed };
      if (isObject(parsed)) {
        return { statusCode: parsed.error !== undefined ? APPLICATION_ERROR : SUCCESS, result: parsed };
      }
      return { statusCode: DEVELOPER_ERROR, result: { error: Messages.invalidRunResponse(body) } };
    }
    if (isObject(parsed) && parsed.error !== undefined) return { statusCode: DEVELOPER_ERROR, result: parsed };
    return { statusCode: DEVELOPER_ERROR, result: { error: Messages.invalidRunResponse(body) } };
  }

  private mapFailure(err: unknown, limits: ActionLimits, duringInit: boolean): ActivationResponse {
    if (err instanceof InitFailed) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(err.body);
      } catch {
        parsed = undefined;
      }
      const result =
        isObject(parsed) && parsed.error !== undefined ? parsed : { error: Messages.invalidInitResponse(err.body) };
      return { statusCode: DEVELOPER_ERROR, result };
    }
    if (err instanceof ContainerGone) {
      if (err.reason === "timeout") {
        return { statusCode: DEVELOPER_ERROR, result: { error: Messages.timedOut(limits.timeout, duringInit) } };
      }
      if (err.reason === "exited") {
        return {
          statusCode: DEVELOPER_ERROR,
          result: { error: duringInit ? Messages.abnormalInit : Messages.abnormalRun },
        };
      }
    }
    return { statusCode: WHISK_ERROR, result: { error: "Failed to provision resources to run the action." } };
  }

  private async runSequence(
    user: Identity,
    resolved: ResolvedAction,
    payload: Record<string, unknown>,
    opts: RunOptions,
  ): Promise<Activation> {
    const id = opts.id ?? newActivationId();
    const start = Date.now();
    const accounting = opts.accounting ?? { components: 0, conductors: 0 };
    const logs: string[] = [];
    let current: Record<string, unknown> = { ...toObject(resolved.parameters), ...payload };
    let response: ActivationResponse = { statusCode: SUCCESS, result: current };
    let duration = 0;
    for (const component of resolved.action.exec.components ?? []) {
      if (accounting.components >= this.options.limits.sequenceMaxLength) {
        response = { statusCode: APPLICATION_ERROR, result: { error: Messages.sequenceIsTooLong } };
        break;
      }
      let next: ResolvedAction;
      try {
        next = this.resolveAction(user, resolveName(component, user.namespace));
      } catch {
        response = { statusCode: APPLICATION_ERROR, result: { error: Messages.sequenceComponentNotFound } };
        break;
      }
      if (next.action.exec.kind !== "sequence" && !isTruthy(next.action.annotations, "conductor")) {
        accounting.components += 1;
      }
      const activation = await this.run(user, next, current, { cause: id, accounting });
      logs.push(activation.activationId);
      duration += activation.duration;
      response = activation.response;
      if (response.statusCode !== SUCCESS) break;
      current = isObject(response.result) ? response.result : { value: response.result };
    }
    const end = Date.now();
    return this.store({
      ...this.record(user, resolved, id, start, end, opts, response, logs, [
        { key: "topmost", value: !opts.cause },
        ...this.baseAnnotations(resolved, opts, 0),
        { key: "kind", value: "sequence" },
        { key: "limits", value: { ...resolved.action.limits } },
      ]),
      duration,
    });
  }

  private async runComposition(
    user: Identity,
    resolved: ResolvedAction,
    payload: Record<string, unknown>,
    opts: RunOptions,
  ): Promise<Activation> {
    const id = opts.id ?? newActivationId();
    const start = Date.now();
    const accounting = opts.accounting ?? { components: 0, conductors: 0 };
    const limit = this.options.limits.sequenceMaxLength;
    const logs: string[] = [];
    let duration = 0;
    let state: Record<string, unknown> | undefined;
    let params: Record<string, unknown> = payload;
    let response: ActivationResponse;
    for (;;) {
      if (accounting.conductors > 2 * limit) {
        response = { statusCode: APPLICATION_ERROR, result: { error: Messages.compositionIsTooLong } };
        break;
      }
      accounting.conductors += 1;
      const conductor = await this.runSimple(user, resolved, state ? { ...params, ...state } : params, {
        cause: id,
      });
      logs.push(conductor.activationId);
      duration += conductor.duration;
      const result = isObject(conductor.response.result) ? conductor.response.result : {};
      const nextParams =
        result.params === undefined ? undefined : isObject(result.params) ? result.params : { value: result.params };
      state = result.state === undefined ? undefined : isObject(result.state) ? result.state : { state: result.state };
      if (result.action === undefined) {
        response = { statusCode: conductor.response.statusCode, result: nextParams ?? result };
        break;
      }
      if (typeof result.action !== "string") {
        params = {
          error: `Failed to parse action name from json value ${JSON.stringify(result.action)} during composition.`,
        };
        continue;
      }
      if (accounting.components >= limit) {
        params = { error: Messages.compositionIsTooLong };
        continue;
      }
      let next: ResolvedAction;
      let fqn: string;
      try {
        const name = resolveName(result.action, user.namespace);
        fqn = `/${name.namespace}/${name.pkg ? `${name.pkg}/` : ""}${name.name}`;
        next = this.resolveAction(user, name);
      } catch {
        params = { error: `Failed to resolve action with name '${result.action}' during composition.` };
        continue;
      }
      void fqn;
      if (!isTruthy(next.action.annotations, "conductor")) accounting.components += 1;
      const component = await this.run(user, next, nextParams ?? {}, { cause: id, accounting });
      logs.push(component.activationId);
      duration += component.duration;
      params = isObject(component.response.result) ? component.response.result : { value: component.response.result };
    }
    const end = Date.now();
    return this.store({
      ...this.record(user, resolved, id, start, end, opts, response, logs, [
        { key: "topmost", value: !opts.cause },
        ...this.baseAnnotations(resolved, opts, 0),
        { key: "kind", value: "sequence" },
        { key: "conductor", value: true },
        { key: "limits", value: { ...resolved.action.limits } },
      ]),
      duration,
    });
  }

  /**
   * POST /triggers/{name}: undefined when no rule is active (204), else the trigger activation id (202). Each rule's
   * action is invoked as a non-blocking POST would be (throttles included); the trigger activation is stored once
   * every rule has an outcome.
   */
  fireTrigger(
    user: Identity,
    name: string,
    payload: Record<string, unknown> | undefined,
    headers: Record<string, string>,
  ): string | undefined {
    this.fireRate.check();
    const trigger = this.namespaces.get(user.namespace)?.triggers.get(name);
    if (!trigger) throw new ApiError(404, Messages.resourceDoesNotExist);
    const rules = Object.entries(trigger.rules);
    if (!rules.some(([, r]) => r.status === "active")) return undefined;
    const id = newActivationId();
    const start = Date.now();
    const args = { ...toObject(trigger.parameters), __ow_headers: headers, ...payload };
    const work = (async () => {
      const results = await Promise.all(
        rules.map(async ([ruleName, rule]) => {
          const action = `${rule.action.path}/${rule.action.name}`;
          if (rule.status !== "active") {
            return {
              rule: ruleName,
              action,
              statusCode: APPLICATION_ERROR,
              success: false,
              error: `Rule '${ruleName}' is inactive, action '${action}' was not activated.`,
            };
          }
          try {
            const fqn = resolveName(`/${action}`, user.namespace);
            const { activationId } = this.startInvocation(user, fqn, args);
            return { rule: ruleName, action, statusCode: SUCCESS, success: true, activationId };
          } catch (err) {
            const status = err instanceof ApiError ? err.status : 500;
            const message = err instanceof ApiError ? err.message : "Internal Server Error";
            const statusCode = status >= 500 ? WHISK_ERROR : APPLICATION_ERROR;
            return { rule: ruleName, action, statusCode, success: false, error: message };
          }
        }),
      );
      this.activations.add({
        namespace: user.namespace,
        name: trigger.name,
        version: trigger.version,
        subject: user.subject,
        activationId: id,
        start,
        end: 0,
        duration: 0,
        response: { statusCode: SUCCESS, result: payload ?? {} },
        logs: results.map((r) => JSON.stringify(r)),
        annotations: [],
        publish: false,
      });
    })();
    void this.track(work);
    return id;
  }

  /** The feed annotation of a trigger, e.g. "/whisk.system/alarms/alarm". */
  feedOf(user: Identity, trigger: string): string | undefined {
    const t = this.namespaces.get(user.namespace)?.triggers.get(trigger);
    const feed = t ? annotation(t.annotations, "feed") : undefined;
    return typeof feed === "string" ? feed : undefined;
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    await Promise.allSettled([...this.running]);
  }
}

class InitFailed extends SagaError {
  override name = "InitFailed";
  constructor(readonly body: string) {
    super("init failed");
  }
}

class BuiltinTimeout extends SagaError {
  override name = "BuiltinTimeout";
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
