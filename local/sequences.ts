// Running a sequence: each component in turn, the output of one the input of the next, up to the platform's
// length limit, as one activation listing its components' activations.

import { isRecord } from "../lib/narrow.ts";
import { type ActivationResponse, APPLICATION_ERROR, newActivationId, SUCCESS } from "./activations.ts";
import { resolveName } from "./entities.ts";
import { Messages } from "./errors.ts";
import type { Runner } from "./invoker.ts";
import { isTruthy, toObject } from "./key-values.ts";
import { sequenceRecord } from "./records.ts";
import type { ResolvedAction } from "./registry.ts";

export const runSequence: Runner = async (platform, user, resolved, payload, opts) => {
  const id = opts.id ?? newActivationId();
  const start = Date.now();
  const accounting = opts.accounting ?? { components: 0, conductors: 0 };
  const logs: string[] = [];
  let current: Record<string, unknown> = { ...toObject(resolved.parameters), ...payload };
  let response: ActivationResponse = { statusCode: SUCCESS, result: current };
  let duration = 0;
  for (const component of resolved.action.exec.components ?? []) {
    if (accounting.components >= platform.options.limits.sequenceMaxLength) {
      response = { statusCode: APPLICATION_ERROR, result: { error: Messages.sequenceIsTooLong } };
      break;
    }
    let next: ResolvedAction;
    try {
      next = platform.resolveAction(user, resolveName(component, user.namespace));
    } catch {
      response = { statusCode: APPLICATION_ERROR, result: { error: Messages.sequenceComponentNotFound } };
      break;
    }
    if (next.action.exec.kind !== "sequence" && !isTruthy(next.action.annotations, "conductor")) {
      accounting.components += 1;
    }
    const activation = await platform.run(user, next, current, { cause: id, accounting });
    logs.push(activation.activationId);
    duration += activation.duration;
    response = activation.response;
    if (response.statusCode !== SUCCESS) break;
    current = isRecord(response.result) ? response.result : { value: response.result };
  }
  return platform.store(sequenceRecord(user, resolved, id, start, opts, response, logs, duration));
};
