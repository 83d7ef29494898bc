// The local OpenWhisk's entities: packages, actions, triggers and rules as the controller keeps them, their kinds
// and limits, and how their names are checked and resolved. The REST API's bodies for them are entity-bodies.ts.
import { ApiError, Messages } from "./errors.ts";
import type { KeyValue } from "./key-values.ts";

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
