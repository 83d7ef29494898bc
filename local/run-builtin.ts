// Running a built-in action of the local OpenWhisk (a feed's lifecycle) in process, within the action's time limit.
import { SagaError } from "../lib/errors.ts";
import { isRecord } from "../lib/narrow.ts";
import { type ActivationResponse, APPLICATION_ERROR, DEVELOPER_ERROR, SUCCESS } from "./activations.ts";
import type { BuiltinHandler } from "./entities.ts";
import { Messages } from "./errors.ts";
import type { Identity } from "./registry.ts";

export async function runBuiltin(
  apiHost: string,
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
      handler(args, { namespace: user.namespace, activationId: id, apiHost: apiHost, log }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BuiltinTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (isRecord(result) && result.error !== undefined) return { statusCode: APPLICATION_ERROR, result };
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

class BuiltinTimeout extends SagaError {
  override name = "BuiltinTimeout";
}
