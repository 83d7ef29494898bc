// Packages, actions, triggers and rules kept in memory, validated and shaped as OpenWhisk's controller does.
import { ApiError, Messages } from "./errors.ts";

/** A JSON object (not null, not an array): what OpenWhisk accepts as parameters and results. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export interface ActionExec {
  kind: string;
  code?: string;
  binary?: boolean;
  main?: string;
  components?: string[];
}

/** An in-process action of the platform itself (the feed actions of whisk.system). */
export type BuiltinHandler = (
  params: Record<string, unknown>,
  context: BuiltinContext,
) => Promise<Record<string, unknown>>;

export interface BuiltinContext {
  /** The namespace of the caller (what __OW_NAMESPACE says in a real container). */
  namespace: string;
  activationId: string;
  apiHost: string;
  log: (line: string) => void;
}

export interface Action {
  namespace: string;
  /** Package name, or undefined for a default-package action. */
  pkg?: string;
  name: string;
  version: string;
  publish: boolean;
  exec: ActionExec;
  annotations: KeyValue[];
  parameters: KeyValue[];
  limits: ActionLimits;
  updated: number;
  /** Bumped on every update: warm containers of an older revision are never reused. */
  rev: number;
  builtin?: BuiltinHandler;
}

export interface Package {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  binding?: { namespace: string; name: string };
  parameters: KeyValue[];
  annotations: KeyValue[];
  updated: number;
}

export interface ReducedRule {
  action: { name: string; path: string };
  status: "active" | "inactive";
}

export interface Trigger {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  parameters: KeyValue[];
  annotations: KeyValue[];
  limits: Record<string, unknown>;
  rules: Record<string, ReducedRule>;
  updated: number;
}

export interface Rule {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  trigger: { name: string; path: string };
  action: { name: string; path: string };
  annotations: KeyValue[];
  updated: number;
}

export const SUPPORTED_KINDS = ["nodejs:18", "nodejs:20", "nodejs:22"];
export const DEFAULT_KIND = "nodejs:20";
export const DEFAULT_LIMITS: ActionLimits = { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 };
const NAME = /^([\w]|[\w][\w@ .-]*[\w@.-]+)$/;

export class Namespace {
  readonly packages = new Map<string, Package>();
  readonly actions = new Map<string, Action>();
  readonly triggers = new Map<string, Trigger>();
  readonly rules = new Map<string, Rule>();
  constructor(readonly name: string) {}
}

export function validName(name: string): string {
  if (!NAME.test(name) || name.length > 256) throw new ApiError(400, Messages.entityNameIllegal);
  return name;
}

/** "a" or "pkg/a" from the path segments after the collection. */
export function splitActionName(segments: string[]): { pkg?: string; name: string } {
  if (segments.length === 1) return { name: validName(segments[0]!) };
  if (segments.length === 2) return { pkg: validName(segments[0]!), name: validName(segments[1]!) };
  throw new ApiError(400, Messages.entityNameIllegal);
}

export const actionKey = (pkg: string | undefined, name: string) => (pkg ? `${pkg}/${name}` : name);

/** Resolves "/ns/[pkg/]name", "ns/pkg/name", "[pkg/]name" against the caller's namespace ("_" is the caller's). */
export function resolveName(fqn: string, userNamespace: string): { namespace: string; pkg?: string; name: string } {
  const absolute = fqn.startsWith("/");
  const parts = fqn.split("/").filter((p) => p !== "");
  let namespace = userNamespace;
  let rest = parts;
  if (absolute) {
    namespace = parts[0] ?? "";
    rest = parts.slice(1);
  } else if (parts.length === 3) {
    namespace = parts[0]!;
    rest = parts.slice(1);
  }
  if (namespace === "_") namespace = userNamespace;
  if (rest.length === 0 || rest.length > 2) throw new ApiError(400, Messages.entityNameIllegal);
  const { pkg, name } = splitActionName(rest);
  return { namespace, pkg, name };
}

export function nextVersion(old: string | undefined): string {
  if (!old) return "0.0.1";
  const [major, minor, patch] = old.split(".").map(Number);
  return `${major ?? 0}.${minor ?? 0}.${(patch ?? 0) + 1}`;
}

function keyValues(raw: unknown, field: string): KeyValue[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ApiError(400, Messages.malformed(`${field} must be an array of key/value pairs`));
  return raw.map((item) => {
    if (!item || typeof item !== "object" || typeof (item as KeyValue).key !== "string") {
      throw new ApiError(400, Messages.malformed(`${field} must be an array of key/value pairs`));
    }
    const kv = item as KeyValue;
    return kv.init === true ? { key: kv.key, value: kv.value, init: true } : { key: kv.key, value: kv.value };
  });
}

export function isTruthy(annotations: KeyValue[], key: string, whenMissing = false): boolean {
  const found = annotations.find((a) => a.key === key);
  if (!found) return whenMissing;
  // OpenWhisk's Parameters.isTruthy: booleans as they are, numbers unless 0, strings unless empty (so "false" is
  // truthy), null false, anything else true.
  const v = found.value;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  return v !== null && v !== undefined;
}

export function annotation(annotations: KeyValue[], key: string): unknown {
  return annotations.find((a) => a.key === key)?.value;
}

export function toObject(params: KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) out[p.key] = p.value;
  return out;
}

/** a < b: parameters of b replace those of a with the same key. */
export function mergeParams(a: KeyValue[], b: KeyValue[]): KeyValue[] {
  const keys = new Set(b.map((p) => p.key));
  return [...a.filter((p) => !keys.has(p.key)), ...b];
}

function setAnnotation(annotations: KeyValue[], key: string, value: unknown): KeyValue[] {
  return [...annotations.filter((a) => a.key !== key), { key, value }];
}

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
