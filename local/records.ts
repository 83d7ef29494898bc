// An activation record as the platform stores it, and the annotations every activation carries.
import type { Activation, ActivationResponse } from "./activations.ts";
import type { KeyValue } from "./entities.ts";
import type { Identity, ResolvedAction } from "./registry.ts";

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

export function baseAnnotations(resolved: ResolvedAction, opts: RunOptions, waitTime: number): KeyValue[] {
  return [
    { key: "path", value: resolved.path },
    { key: "waitTime", value: waitTime },
    ...(opts.cause ? [{ key: "causedBy", value: "sequence" }] : []),
  ];
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
