// Firing a trigger: every active rule's action is invoked as a non-blocking POST would be (throttles included),
// and the trigger's activation, stored once every rule has an outcome, lists each rule's outcome in its logs.
import { APPLICATION_ERROR, newActivationId, SUCCESS, WHISK_ERROR } from "./activations.ts";
import { resolveName } from "./entities.ts";
import { ApiError, Messages } from "./errors.ts";
import type { Invoker } from "./invoker.ts";
import { toObject } from "./key-values.ts";
import type { Identity } from "./registry.ts";

/**
 * POST /triggers/{name}: undefined when no rule is active (204), else the trigger activation id (202) and the
 * work of invoking the rules. Each rule's
 * action is invoked as a non-blocking POST would be (throttles included); the trigger activation is stored once
 * every rule has an outcome.
 */
export function startFire(
  platform: Invoker,
  user: Identity,
  name: string,
  payload: Record<string, unknown> | undefined,
  headers: Record<string, string>,
): { activationId: string; work: Promise<void> } | undefined {
  const trigger = platform.namespaces.get(user.namespace)?.triggers.get(name);
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
          const { activationId } = platform.startInvocation(user, fqn, args);
          return { rule: ruleName, action, statusCode: SUCCESS, success: true, activationId };
        } catch (err) {
          const status = err instanceof ApiError ? err.status : 500;
          const message = err instanceof ApiError ? err.message : "Internal Server Error";
          const statusCode = status >= 500 ? WHISK_ERROR : APPLICATION_ERROR;
          return { rule: ruleName, action, statusCode, success: false, error: message };
        }
      }),
    );
    platform.activations.add({
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
  return { activationId: id, work };
}
