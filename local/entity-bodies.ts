// The REST API's bodies: what a PUT carries, validated into an entity as OpenWhisk's controller does, and an entity
// as the API answers with it.

import {
  type Action,
  type ActionExec,
  type ActionLimits,
  DEFAULT_KIND,
  DEFAULT_LIMITS,
  nextVersion,
  type Package,
  type Rule,
  SUPPORTED_KINDS,
  type Trigger,
} from "./entities.ts";
import { ApiError, Messages } from "./errors.ts";
import { annotation, keyValues, setAnnotation } from "./key-values.ts";

function limitsFrom(raw: unknown, old: ActionLimits | undefined): ActionLimits {
  const base = old ?? DEFAULT_LIMITS;
  if (raw === undefined || raw === null) return { ...base };
  if (typeof raw !== "object") throw new ApiError(400, Messages.malformed("limits must be an object"));
  const r = raw as Partial<ActionLimits>;
  // As OpenWhisk's update does: each limit not given keeps the action's current value.
  const limits = { ...base, ...r } as ActionLimits;
  const check = (field: string, value: unknown, min: number, max: number, unit: string) => {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new ApiError(400, Messages.malformed(`${field} must be an integer`));
    }
    if (value < min) throw new ApiError(400, `${field} ${value} ${unit} below allowed threshold of ${min} ${unit}`);
    if (value > max) throw new ApiError(400, `${field} ${value} ${unit} exceeds allowed threshold of ${max} ${unit}`);
  };
  check("timeout", limits.timeout, 100, 300_000, "milliseconds");
  check("memory", limits.memory, 128, 512, "MB");
  check("logs", limits.logs, 0, 10, "MB");
  if (typeof limits.concurrency !== "number" || limits.concurrency < 1 || limits.concurrency > 500) {
    throw new ApiError(400, `concurrency ${limits.concurrency} exceeds allowed threshold of 500`);
  }
  return { timeout: limits.timeout, memory: limits.memory, logs: limits.logs, concurrency: limits.concurrency };
}

function body(raw: unknown): Record<string, unknown> {
  if (raw === undefined) return {};
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ApiError(400, Messages.malformed("Object expected"));
  }
  return raw as Record<string, unknown>;
}

export function actionFromPut(
  raw: unknown,
  ns: string,
  pkg: string | undefined,
  name: string,
  old: Action | undefined,
  resolveComponent: (fqn: string) => string,
): Action {
  const content = body(raw);
  let exec: ActionExec;
  let annotations = content.annotations !== undefined ? keyValues(content.annotations, "annotations") : undefined;
  if (content.exec === undefined) {
    if (!old) throw new ApiError(400, Messages.malformed("exec undefined"));
    exec = old.exec;
  } else {
    const e = content.exec as Record<string, unknown> | null;
    if (!e || typeof e !== "object" || typeof e.kind !== "string") {
      throw new ApiError(400, Messages.malformed("exec must be an object with a kind"));
    }
    if (e.kind === "sequence") {
      const components = e.components;
      if (!Array.isArray(components) || components.length === 0) {
        throw new ApiError(400, "No component specified for the sequence.");
      }
      const resolved = components.map((c) => {
        if (typeof c !== "string") throw new ApiError(400, Messages.malformed("components must be strings"));
        return resolveComponent(c);
      });
      exec = { kind: "sequence", components: resolved };
    } else {
      const kind = e.kind === "nodejs:default" || e.kind === "nodejs" ? DEFAULT_KIND : e.kind;
      if (!SUPPORTED_KINDS.includes(kind)) {
        throw new ApiError(
          400,
          `The specified runtime '${e.kind}' is not supported by this platform. Valid values are: '${SUPPORTED_KINDS.join("', '")}'.`,
        );
      }
      if (typeof e.code !== "string" || e.code === "") throw new ApiError(400, Messages.malformed("exec.code missing"));
      const binary = e.binary === true || (e.binary === undefined && looksLikeZip(e.code));
      exec = { kind, code: e.code, binary, ...(typeof e.main === "string" && e.main ? { main: e.main } : {}) };
    }
  }
  annotations = annotations ?? old?.annotations ?? [];
  // As OpenWhisk's controller does on create (not on update): an action is not given the caller's API key unless
  // it asks for it with provide-api-key.
  if (!old && annotation(annotations, "provide-api-key") === undefined) {
    annotations = setAnnotation(annotations, "provide-api-key", false);
  }
  // As OpenWhisk does: the exec annotation is the kind, so a list shows each action's runtime.
  annotations = setAnnotation(annotations, "exec", exec.kind);
  return {
    namespace: ns,
    pkg,
    name,
    version: typeof content.version === "string" ? content.version : nextVersion(old?.version),
    publish: typeof content.publish === "boolean" ? content.publish : (old?.publish ?? false),
    exec,
    annotations,
    parameters:
      content.parameters !== undefined ? keyValues(content.parameters, "parameters") : (old?.parameters ?? []),
    limits: limitsFrom(content.limits, old?.limits),
    updated: Date.now(),
    rev: (old?.rev ?? 0) + 1,
  };
}

function looksLikeZip(code: string): boolean {
  return code.startsWith("UEsDB");
}

export function packageFromPut(raw: unknown, ns: string, name: string, old: Package | undefined): Package {
  const content = body(raw);
  let binding = old?.binding;
  if (content.binding !== undefined && content.binding !== null) {
    const b = content.binding as Record<string, unknown>;
    if (typeof b === "object" && typeof b.name === "string" && b.name !== "") {
      if (old && !old.binding) throw new ApiError(400, "Resource is a package and cannot be converted into a binding.");
      binding = { namespace: typeof b.namespace === "string" && b.namespace !== "_" ? b.namespace : ns, name: b.name };
    }
  }
  return {
    namespace: ns,
    name,
    version: typeof content.version === "string" ? content.version : nextVersion(old?.version),
    publish: typeof content.publish === "boolean" ? content.publish : (old?.publish ?? false),
    ...(binding ? { binding } : {}),
    parameters:
      content.parameters !== undefined ? keyValues(content.parameters, "parameters") : (old?.parameters ?? []),
    annotations:
      content.annotations !== undefined ? keyValues(content.annotations, "annotations") : (old?.annotations ?? []),
    updated: Date.now(),
  };
}

export function triggerFromPut(raw: unknown, ns: string, name: string, old: Trigger | undefined): Trigger {
  const content = body(raw);
  const annotations =
    content.annotations !== undefined ? keyValues(content.annotations, "annotations") : (old?.annotations ?? []);
  const feed = annotation(annotations, "feed");
  if (feed !== undefined && (typeof feed !== "string" || feed.split("/").filter((p) => p).length < 2)) {
    throw new ApiError(400, "Feed name is not valid");
  }
  return {
    namespace: ns,
    name,
    version: typeof content.version === "string" ? content.version : nextVersion(old?.version),
    publish: typeof content.publish === "boolean" ? content.publish : (old?.publish ?? false),
    parameters:
      content.parameters !== undefined ? keyValues(content.parameters, "parameters") : (old?.parameters ?? []),
    annotations,
    limits: {},
    rules: old?.rules ?? {},
    updated: Date.now(),
  };
}

const stamp = (e: { updated: number }) => ({ updated: e.updated });

export function actionJson(a: Action, withCode = true): Record<string, unknown> {
  const exec: Record<string, unknown> = { kind: a.exec.kind };
  if (a.exec.kind === "sequence") exec.components = a.exec.components;
  else {
    if (withCode) exec.code = a.exec.code;
    exec.binary = a.exec.binary ?? false;
    if (a.exec.main) exec.main = a.exec.main;
  }
  return {
    namespace: a.pkg ? `${a.namespace}/${a.pkg}` : a.namespace,
    name: a.name,
    version: a.version,
    publish: a.publish,
    exec,
    annotations: a.annotations,
    ...(withCode ? { parameters: a.parameters } : {}),
    limits: a.limits,
    ...stamp(a),
  };
}

export function packageJson(p: Package, actions?: Action[], feeds?: Action[]): Record<string, unknown> {
  return {
    namespace: p.namespace,
    name: p.name,
    version: p.version,
    publish: p.publish,
    binding: p.binding ?? {},
    parameters: p.parameters,
    annotations: p.annotations,
    ...stamp(p),
    ...(actions ? { actions: actions.map(actionSummary), feeds: (feeds ?? []).map(actionSummary) } : {}),
  };
}

function actionSummary(a: Action): Record<string, unknown> {
  return { name: a.name, version: a.version, annotations: a.annotations };
}

export function triggerJson(t: Trigger, withRules = true): Record<string, unknown> {
  return {
    namespace: t.namespace,
    name: t.name,
    version: t.version,
    publish: t.publish,
    parameters: t.parameters,
    annotations: t.annotations,
    limits: t.limits,
    ...(withRules && Object.keys(t.rules).length > 0 ? { rules: t.rules } : {}),
    ...stamp(t),
  };
}

export function ruleJson(r: Rule, status: "active" | "inactive"): Record<string, unknown> {
  return {
    namespace: r.namespace,
    name: r.name,
    version: r.version,
    publish: r.publish,
    status,
    trigger: r.trigger,
    action: r.action,
    annotations: r.annotations,
    ...stamp(r),
  };
}
