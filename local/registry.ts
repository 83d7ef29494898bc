// The local OpenWhisk's entities by namespace, and resolving an action as the controller does: packages, bindings,
// published and final parameters, and the built-in actions of whisk.system.
import { type Action, actionKey, type BuiltinHandler, DEFAULT_KIND, DEFAULT_LIMITS, Namespace } from "./entities.ts";
import { ApiError, Messages } from "./errors.ts";
import { annotation, isTruthy, type KeyValue, mergeParams } from "./key-values.ts";

export const SYSTEM_NAMESPACE = "whisk.system";

export interface Identity {
  namespace: string;
  subject: string;
  authKey: string;
}

export interface ResolvedAction {
  action: Action;
  /** package < binding < action */
  parameters: KeyValue[];
  /** "ns/pkg/name" as activation records and rules name it */
  path: string;
}

export class Registry {
  readonly namespaces = new Map<string, Namespace>();

  ns(name: string): Namespace {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = new Namespace(name);
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /** Registers an in-process action of the platform, e.g. /whisk.system/messaging/messageHubFeed. */
  registerBuiltin(pkg: string, name: string, handler: BuiltinHandler, annotations: KeyValue[] = []): void {
    const ns = this.ns(SYSTEM_NAMESPACE);
    if (!ns.packages.has(pkg)) {
      ns.packages.set(pkg, {
        namespace: SYSTEM_NAMESPACE,
        name: pkg,
        version: "0.0.1",
        publish: true,
        parameters: [],
        annotations: [],
        updated: Date.now(),
      });
    }
    ns.actions.set(actionKey(pkg, name), {
      namespace: SYSTEM_NAMESPACE,
      pkg,
      name,
      version: "0.0.1",
      publish: true,
      exec: { kind: DEFAULT_KIND, code: "// built into the local OpenWhisk", binary: false },
      annotations: [{ key: "exec", value: DEFAULT_KIND }, ...annotations],
      parameters: [],
      limits: { ...DEFAULT_LIMITS },
      updated: Date.now(),
      rev: 1,
      builtin: handler,
    });
  }

  /** Finds an action and merges package (and binding) parameters under its own. */
  resolveAction(user: Identity, fqn: { namespace: string; pkg?: string; name: string }): ResolvedAction {
    const ns = this.namespaces.get(fqn.namespace);
    let parameters: KeyValue[] = [];
    let pkgNamespace = fqn.namespace;
    let pkgName = fqn.pkg;
    if (fqn.pkg) {
      const pkg = ns?.packages.get(fqn.pkg);
      if (!pkg) throw new ApiError(404, Messages.resourceDoesNotExist);
      if (fqn.namespace !== user.namespace && !pkg.publish) throw new ApiError(403, Messages.notAuthorized);
      if (pkg.binding) {
        const bound = this.namespaces.get(pkg.binding.namespace)?.packages.get(pkg.binding.name);
        if (!bound) throw new ApiError(404, Messages.resourceDoesNotExist);
        parameters = mergeParams(bound.parameters, pkg.parameters);
        pkgNamespace = pkg.binding.namespace;
        pkgName = pkg.binding.name;
      } else {
        parameters = pkg.parameters;
      }
    } else if (fqn.namespace !== user.namespace) {
      throw new ApiError(403, Messages.notAuthorized);
    }
    const action = this.namespaces.get(pkgNamespace)?.actions.get(actionKey(pkgName, fqn.name));
    if (!action) throw new ApiError(404, Messages.resourceDoesNotExist);
    return {
      action,
      parameters: mergeParams(parameters, action.parameters),
      path: `${action.namespace}${action.pkg ? `/${action.pkg}` : ""}/${action.name}`,
    };
  }

  /**
   * Parameters an invocation may not override: all defined ones when the action is annotated final. Defined means
   * not null, as OpenWhisk's `definedParameters`: a parameter bound to "" is final too.
   */
  checkFinal(resolved: ResolvedAction, payload: Record<string, unknown> | undefined): void {
    if (!payload || !isTruthy(resolved.action.annotations, "final")) return;
    const defined = new Set(
      resolved.parameters.filter((p) => p.value !== null && p.value !== undefined).map((p) => p.key),
    );
    if (Object.keys(payload).some((k) => defined.has(k))) throw new ApiError(400, Messages.parametersNotAllowed);
  }

  /** The feed annotation of a trigger, e.g. "/whisk.system/alarms/alarm". */
  feedOf(user: Identity, trigger: string): string | undefined {
    const t = this.namespaces.get(user.namespace)?.triggers.get(trigger);
    const feed = t ? annotation(t.annotations, "feed") : undefined;
    return typeof feed === "string" ? feed : undefined;
  }
}
