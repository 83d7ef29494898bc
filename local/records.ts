// An activation record as the platform stores it, and the annotations every activation carries.
import type { Activation, ActivationResponse } from "./activations.ts";
import type { RunOptions } from "./invoker.ts";
import type { KeyValue } from "./key-values.ts";
import type { Identity, ResolvedAction } from "./registry.ts";

export function baseAnnotations(resolved: ResolvedAction, opts: RunOptions, waitTime: number): KeyValue[] {
  return [
    { key: "path", value: resolved.path },
    { key: "waitTime", value: waitTime },
    ...(opts.cause ? [{ key: "causedBy", value: "sequence" }] : []),
  ];
}

/** The record of a sequence or a composition: its components' activation ids as logs, their time as duration. */
export function sequenceRecord(
  user: Identity,
  resolved: ResolvedAction,
  id: string,
  start: number,
  opts: RunOptions,
  response: ActivationResponse,
  componentIds: string[],
  duration: number,
): Activation {
  const annotations: KeyValue[] = [
    { key: "topmost", value: !opts.cause },
    ...baseAnnotations(resolved, opts, 0),
    { key: "kind", value: "sequence" },
    { key: "limits", value: { ...resolved.action.limits } },
  ];
  return {
    ...activationRecord(user, resolved, id, start, Date.now(), opts, response, componentIds, annotations),
    duration,
  };
}

export function activationRecord(
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
