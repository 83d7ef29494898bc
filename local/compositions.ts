// Running a conductor action (a composition): the conductor decides the next component, the platform runs it and
// gives its result back to the conductor, until the conductor answers without an action; bounded as upstream.

import { isRecord } from "../lib/narrow.ts";
import { type ActivationResponse, APPLICATION_ERROR, newActivationId } from "./activations.ts";
import { resolveName } from "./entities.ts";
import { Messages } from "./errors.ts";
import type { Runner } from "./invoker.ts";
import { isTruthy } from "./key-values.ts";
import { sequenceRecord } from "./records.ts";
import type { ResolvedAction } from "./registry.ts";
import { runAction } from "./run-action.ts";

export const runComposition: Runner = async (platform, user, resolved, payload, opts) => {
  const id = opts.id ?? newActivationId();
  const start = Date.now();
  const accounting = opts.accounting ?? { components: 0, conductors: 0 };
  const limit = platform.options.limits.sequenceMaxLength;
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
    const conductor = await runAction(platform, user, resolved, state ? { ...params, ...state } : params, {
      cause: id,
    });
    logs.push(conductor.activationId);
    duration += conductor.duration;
    const result = isRecord(conductor.response.result) ? conductor.response.result : {};
    const nextParams =
      result.params === undefined ? undefined : isRecord(result.params) ? result.params : { value: result.params };
    state = result.state === undefined ? undefined : isRecord(result.state) ? result.state : { state: result.state };
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
      next = platform.resolveAction(user, name);
    } catch {
      params = { error: `Failed to resolve action with name '${result.action}' during composition.` };
      continue;
    }
    void fqn;
    if (!isTruthy(next.action.annotations, "conductor")) accounting.components += 1;
    const component = await platform.run(user, next, nextParams ?? {}, { cause: id, accounting });
    logs.push(component.activationId);
    duration += component.duration;
    params = isRecord(component.response.result) ? component.response.result : { value: component.response.result };
  }
  const record = sequenceRecord(user, resolved, id, start, opts, response, logs, duration);
  return platform.store({ ...record, annotations: [...record.annotations, { key: "conductor", value: true }] });
};
