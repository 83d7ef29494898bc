// Running an action that is not a sequence or a composition: a built-in in process, or code in a container of the
// Node.js runtime, spoken to as the invoker does (/init once per container, then /run), with OpenWhisk's answers
// for every way that can fail.
import { SagaError } from "../lib/errors.ts";
import { isRecord } from "../lib/narrow.ts";
import {
  type ActivationResponse,
  APPLICATION_ERROR,
  DEVELOPER_ERROR,
  newActivationId,
  SUCCESS,
  WHISK_ERROR,
} from "./activations.ts";
import { Container, ContainerGone } from "./container.ts";
import type { ActionLimits } from "./entities.ts";
import { Messages, transactionId } from "./errors.ts";
import type { Runner } from "./invoker.ts";
import { isTruthy, type KeyValue, toObject } from "./key-values.ts";
import type { ContainerPool } from "./pool.ts";
import { activationRecord, baseAnnotations } from "./records.ts";
import { runBuiltin } from "./run-builtin.ts";

export const runAction: Runner = async (platform, user, resolved, payload, opts) => {
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
    response = await runBuiltin(platform.apiHost, action.builtin, args, user, id, logs, limits.timeout);
  } else {
    const key = `${resolved.path}@${action.rev}`;
    let acquired: Awaited<ReturnType<ContainerPool["acquire"]>>;
    try {
      acquired = await platform.pool.acquire(key, limits.concurrency, () => spawn(platform.apiHost, limits));
    } catch (err) {
      return platform.store(
        activationRecord(
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
        const env: Record<string, unknown> = { __OW_API_HOST: platform.apiHost, ...toObject(initParams) };
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
      response = mapRunResponse(platform.options.limits.resultBytes, ran.status, ran.body);
      if (response.statusCode === DEVELOPER_ERROR) discard = true;
    } catch (err) {
      discard = true;
      response = mapFailure(err, limits, cold && !container.initialized);
      timedOut = err instanceof ContainerGone && err.reason === "timeout";
    }
    if (discard) await container.destroy();
    await Promise.race([collected.finished, delay(discard ? 200 : 2_000)]);
    logs.push(...collected.lines);
    await platform.pool.release(container, discard);
  }
  const end = Date.now();
  const annotations: KeyValue[] = [
    ...baseAnnotations(resolved, opts, start - received),
    { key: "kind", value: action.exec.kind },
    { key: "timeout", value: timedOut },
    { key: "limits", value: { ...limits } },
    ...(initTime !== undefined ? [{ key: "initTime", value: initTime }] : []),
  ];
  return platform.store(activationRecord(user, resolved, id, start, end, opts, response, logs, annotations));
};

function spawn(apiHost: string, limits: ActionLimits): Container {
  return new Container(
    {
      __OW_API_HOST: apiHost,
      ...(limits.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: "true" } : {}),
    },
    limits.memory,
    limits.logs * 1024 * 1024,
  );
}

function mapRunResponse(maxResultBytes: number, status: number, body: string): ActivationResponse {
  const size = Buffer.byteLength(body);
  const max = maxResultBytes;
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
    if (isRecord(parsed)) {
      return { statusCode: parsed.error !== undefined ? APPLICATION_ERROR : SUCCESS, result: parsed };
    }
    return { statusCode: DEVELOPER_ERROR, result: { error: Messages.invalidRunResponse(body) } };
  }
  if (isRecord(parsed) && parsed.error !== undefined) return { statusCode: DEVELOPER_ERROR, result: parsed };
  return { statusCode: DEVELOPER_ERROR, result: { error: Messages.invalidRunResponse(body) } };
}

function mapFailure(err: unknown, limits: ActionLimits, duringInit: boolean): ActivationResponse {
  if (err instanceof InitFailed) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(err.body);
    } catch {
      parsed = undefined;
    }
    const result =
      isRecord(parsed) && parsed.error !== undefined ? parsed : { error: Messages.invalidInitResponse(err.body) };
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

class InitFailed extends SagaError {
  override name = "InitFailed";
  constructor(readonly body: string) {
    super("init failed");
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
