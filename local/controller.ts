// The REST API under /api/v1/namespaces: packages, actions, triggers, rules, activations.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Activation, activationJson, responseJson, resultJson, SUCCESS, WHISK_ERROR } from "./activations.ts";
import {
  type Action,
  actionFromPut,
  actionJson,
  actionKey,
  annotation,
  packageFromPut,
  packageJson,
  type Rule,
  resolveName,
  ruleJson,
  splitActionName,
  triggerFromPut,
  triggerJson,
  validName,
} from "./entities.ts";
import { ApiError, Messages } from "./errors.ts";
import { parseJson, readBody, sendJson } from "./http.ts";
import { type Identity, type Platform, SYSTEM_NAMESPACE } from "./platform.ts";

const PUT_LIMIT = 50 * 1024 * 1024;

export interface Route {
  namespace: string;
  collection: string;
  rest: string[];
  query: URLSearchParams;
}

function listWindow(query: URLSearchParams, collection: string): { skip: number; limit: number } {
  const int = (name: string, fallback: number) => {
    const raw = query.get(name);
    if (raw === null || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new ApiError(400, `The value '${raw}' is not an integer for ${collection}.`);
    return n;
  };
  const skip = int("skip", 0);
  const limit = int("limit", 30);
  if (skip < 0) throw new ApiError(400, `The value '${skip}' is not greater than or equal to 0 for ${collection}.`);
  if (limit < 0 || limit > 200)
    throw new ApiError(400, `The value '${limit}' is not in the range of 0 to 200 for ${collection}.`);
  return { skip, limit: limit === 0 ? 200 : limit };
}

const bool = (query: URLSearchParams, name: string) => query.get(name) === "true";

function page<T>(items: T[], query: URLSearchParams, collection: string): T[] {
  const { skip, limit } = listWindow(query, collection);
  return items.slice(skip, skip + limit);
}

function requireObject(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError(400, Messages.malformed("Object expected"));
  }
  return value as Record<string, unknown>;
}

const byUpdated = <T extends { updated: number }>(items: Iterable<T>) =>
  [...items].sort((a, b) => b.updated - a.updated);

export class Controller {
  constructor(private readonly platform: Platform) {}

  async handle(req: IncomingMessage, res: ServerResponse, user: Identity, route: Route): Promise<void> {
    const method = req.method ?? "GET";
    const ns = route.namespace === "_" ? user.namespace : route.namespace;
    const readOnlySystem =
      ns === SYSTEM_NAMESPACE && (method === "GET" || (method === "POST" && route.collection === "actions"));
    if (ns !== user.namespace && !readOnlySystem) throw new ApiError(403, Messages.notAuthorized);
    switch (route.collection) {
      case "actions":
        return this.actions(req, res, user, ns, route, method);
      case "packages":
        return this.packages(req, res, ns, route, method);
      case "triggers":
        return this.triggers(req, res, user, ns, route, method);
      case "rules":
        return this.rules(req, res, user, ns, route, method);
      case "activations":
        return this.activations(res, user, route, method);
      default:
        throw new ApiError(404, Messages.resourceDoesNotExist);
    }
  }

  private async actions(
    req: IncomingMessage,
    res: ServerResponse,
    user: Identity,
    ns: string,
    route: Route,
    method: string,
  ): Promise<void> {
    const space = this.platform.ns(ns);
    if (route.rest.length === 0) {
      if (method !== "GET") throw new ApiError(405, "HTTP method not allowed, supported methods: GET");
      const visible = [...space.actions.values()].filter((a) => ns === user.namespace || a.publish);
      sendJson(
        res,
        200,
        page(byUpdated(visible), route.query, "actions").map((a) => actionJson(a, false)),
      );
      return;
    }
    const { pkg, name } = splitActionName(route.rest);
    const key = actionKey(pkg, name);
    if (method === "GET") {
      const resolved = this.platform.resolveAction(user, { namespace: ns, pkg, name });
      const json = actionJson(resolved.action, route.query.get("code") !== "false");
      json.parameters = resolved.parameters;
      sendJson(res, 200, json);
      return;
    }
    if (method === "PUT") {
      const body = parseJson(await readBody(req, PUT_LIMIT));
      if (pkg) {
        const p = space.packages.get(pkg);
        if (!p) throw new ApiError(404, Messages.resourceDoesNotExist);
        if (p.binding) throw new ApiError(400, "Operation not permitted on package binding.");
      }
      const old = space.actions.get(key);
      if (old && !bool(route.query, "overwrite")) throw new ApiError(409, Messages.resourceExists);
      const selfPath = `/${ns}/${key}`;
      const action = actionFromPut(body, ns, pkg, name, old, (component) => {
        const c = resolveName(component, user.namespace);
        const path = `/${c.namespace}/${actionKey(c.pkg, c.name)}`;
        if (path === selfPath) throw new ApiError(400, Messages.sequenceIsCyclic);
        try {
          this.platform.resolveAction(user, c);
        } catch {
          throw new ApiError(400, Messages.sequenceComponentNotFound);
        }
        return path;
      });
      if (
        action.exec.kind === "sequence" &&
        (action.exec.components?.length ?? 0) > this.platform.options.limits.sequenceMaxLength
      ) {
        throw new ApiError(400, Messages.sequenceIsTooLong);
      }
      space.actions.set(key, action);
      this.platform.pool.purge(`${ns}/${key}@`);
      sendJson(res, 200, actionJson(action));
      return;
    }
    if (method === "DELETE") {
      const old = space.actions.get(key);
      if (!old) throw new ApiError(404, Messages.resourceDoesNotExist);
      space.actions.delete(key);
      this.platform.pool.purge(`${ns}/${key}@`);
      sendJson(res, 200, actionJson(old));
      return;
    }
    if (method === "POST") {
      const body = requireObject(parseJson(await readBody(req, this.platform.options.limits.payloadBytes)));
      const started = this.platform.startInvocation(user, { namespace: ns, pkg, name }, body);
      const header = { "x-openwhisk-activation-id": started.activationId };
      if (!bool(route.query, "blocking")) {
        started.done.catch(() => {});
        sendJson(res, 202, { activationId: started.activationId }, header);
        return;
      }
      const waited = await waitFor(started.done, this.platform.options.limits.maxBlockingWaitMs);
      if (!waited) {
        sendJson(res, 202, { activationId: started.activationId }, header);
        return;
      }
      sendJson(res, statusOf(waited), blockingBody(waited, bool(route.query, "result")), header);
      return;
    }
    throw new ApiError(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
  }

  private async packages(
    req: IncomingMessage,
    res: ServerResponse,
    ns: string,
    route: Route,
    method: string,
  ): Promise<void> {
    const space = this.platform.ns(ns);
    if (route.rest.length === 0) {
      if (method !== "GET") throw new ApiError(405, "HTTP method not allowed, supported methods: GET");
      sendJson(
        res,
        200,
        page(byUpdated(space.packages.values()), route.query, "packages").map((p) => packageJson(p)),
      );
      return;
    }
    if (route.rest.length !== 1) throw new ApiError(404, Messages.resourceDoesNotExist);
    const name = validName(route.rest[0]!);
    const contents = () => {
      const actions = [...space.actions.values()].filter((a) => a.pkg === name);
      return {
        actions: actions.filter((a) => !annotation(a.annotations, "feed")),
        feeds: actions.filter((a) => annotation(a.annotations, "feed")),
      };
    };
    if (method === "GET") {
      const p = space.packages.get(name);
      if (!p) throw new ApiError(404, Messages.resourceDoesNotExist);
      const { actions, feeds } = contents();
      sendJson(res, 200, packageJson(p, actions, feeds));
      return;
    }
    if (method === "PUT") {
      const body = parseJson(await readBody(req, PUT_LIMIT));
      const old = space.packages.get(name);
      if (old && !bool(route.query, "overwrite")) throw new ApiError(409, Messages.resourceExists);
      const p = packageFromPut(body, ns, name, old);
      if (p.binding) {
        const bound = this.platform.namespaces.get(p.binding.namespace)?.packages.get(p.binding.name);
        if (!bound) throw new ApiError(400, "Binding references a package that does not exist.");
        if (bound.binding) throw new ApiError(400, "Cannot bind to another package binding.");
      }
      space.packages.set(name, p);
      sendJson(res, 200, packageJson(p));
      return;
    }
    if (method === "DELETE") {
      const p = space.packages.get(name);
      if (!p) throw new ApiError(404, Messages.resourceDoesNotExist);
      const { actions, feeds } = contents();
      const count = actions.length + feeds.length;
      if (count > 0 && !bool(route.query, "force")) {
        throw new ApiError(409, `Package not empty (contains ${count} ${count === 1 ? "entity" : "entities"})`);
      }
      for (const a of [...actions, ...feeds]) space.actions.delete(actionKey(a.pkg, a.name));
      space.packages.delete(name);
      sendJson(res, 200, packageJson(p));
      return;
    }
    throw new ApiError(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE");
  }

  private async triggers(
    req: IncomingMessage,
    res: ServerResponse,
    user: Identity,
    ns: string,
    route: Route,
    method: string,
  ): Promise<void> {
    const space = this.platform.ns(ns);
    if (route.rest.length === 0) {
      if (method !== "GET") throw new ApiError(405, "HTTP method not allowed, supported methods: GET");
      sendJson(
        res,
        200,
        page(byUpdated(space.triggers.values()), route.query, "triggers").map((t) => triggerJson(t, false)),
      );
      return;
    }
    if (route.rest.length !== 1) throw new ApiError(404, Messages.resourceDoesNotExist);
    const name = validName(route.rest[0]!);
    if (method === "GET") {
      const t = space.triggers.get(name);
      if (!t) throw new ApiError(404, Messages.resourceDoesNotExist);
      sendJson(res, 200, triggerJson(t));
      return;
    }
    if (method === "PUT") {
      const body = parseJson(await readBody(req, PUT_LIMIT));
      const old = space.triggers.get(name);
      if (old && !bool(route.query, "overwrite")) throw new ApiError(409, Messages.resourceExists);
      const t = triggerFromPut(body, ns, name, old);
      space.triggers.set(name, t);
      sendJson(res, 200, triggerJson(t));
      return;
    }
    if (method === "DELETE") {
      const t = space.triggers.get(name);
      if (!t) throw new ApiError(404, Messages.resourceDoesNotExist);
      space.triggers.delete(name);
      sendJson(res, 200, triggerJson(t));
      return;
    }
    if (method === "POST") {
      const body = requireObject(parseJson(await readBody(req, this.platform.options.limits.payloadBytes)));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k === "content-type" || k === "content-length" || v === undefined) continue;
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }
      const id = this.platform.fireTrigger(user, name, body, headers);
      if (id === undefined) {
        res.writeHead(204);
        res.end();
        return;
      }
      sendJson(res, 202, { activationId: id }, { "x-openwhisk-activation-id": id });
      return;
    }
    throw new ApiError(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
  }

  private ruleStatus(r: Rule): "active" | "inactive" {
    const trigger = this.platform.namespaces.get(r.trigger.path)?.triggers.get(r.trigger.name);
    return trigger?.rules[`${r.namespace}/${r.name}`]?.status ?? "inactive";
  }

  private async rules(
    req: IncomingMessage,
    res: ServerResponse,
    user: Identity,
    ns: string,
    route: Route,
    method: string,
  ): Promise<void> {
    const space = this.platform.ns(ns);
    if (route.rest.length === 0) {
      if (method !== "GET") throw new ApiError(405, "HTTP method not allowed, supported methods: GET");
      sendJson(
        res,
        200,
        page(byUpdated(space.rules.values()), route.query, "rules").map((r) => ruleJson(r, this.ruleStatus(r))),
      );
      return;
    }
    if (route.rest.length !== 1) throw new ApiError(404, Messages.resourceDoesNotExist);
    const name = validName(route.rest[0]!);
    const ruleKey = `${ns}/${name}`;
    if (method === "GET") {
      const r = space.rules.get(name);
      if (!r) throw new ApiError(404, Messages.resourceDoesNotExist);
      sendJson(res, 200, ruleJson(r, this.ruleStatus(r)));
      return;
    }
    if (method === "PUT") {
      const body = requireObject(parseJson(await readBody(req, PUT_LIMIT))) ?? {};
      const old = space.rules.get(name);
      if (old && !bool(route.query, "overwrite")) throw new ApiError(409, Messages.resourceExists);
      if (typeof body.trigger !== "string" || typeof body.action !== "string") {
        throw new ApiError(400, "rule requires a valid trigger and a valid action");
      }
      const tn = resolveName(body.trigger, user.namespace);
      if (tn.pkg) throw new ApiError(400, Messages.entityNameIllegal);
      const an = resolveName(body.action, user.namespace);
      const trigger = this.platform.namespaces.get(tn.namespace)?.triggers.get(tn.name);
      if (!trigger) throw new ApiError(400, Messages.resourceDoesNotExist);
      try {
        this.platform.resolveAction(user, an);
      } catch {
        throw new ApiError(400, Messages.resourceDoesNotExist);
      }
      const status = old ? this.ruleStatus(old) : "active";
      if (old) {
        const oldTrigger = this.platform.namespaces.get(old.trigger.path)?.triggers.get(old.trigger.name);
        if (oldTrigger) delete oldTrigger.rules[ruleKey];
      }
      const rule: Rule = {
        namespace: ns,
        name,
        version: old ? bumpVersion(old.version) : "0.0.1",
        publish: typeof body.publish === "boolean" ? body.publish : false,
        trigger: { name: tn.name, path: tn.namespace },
        action: { name: an.name, path: an.pkg ? `${an.namespace}/${an.pkg}` : an.namespace },
        annotations: Array.isArray(body.annotations)
          ? (body.annotations as Rule["annotations"])
          : (old?.annotations ?? []),
        updated: Date.now(),
      };
      trigger.rules[ruleKey] = { action: rule.action, status };
      space.rules.set(name, rule);
      sendJson(res, 200, ruleJson(rule, status));
      return;
    }
    if (method === "DELETE") {
      const r = space.rules.get(name);
      if (!r) throw new ApiError(404, Messages.resourceDoesNotExist);
      const status = this.ruleStatus(r);
      const trigger = this.platform.namespaces.get(r.trigger.path)?.triggers.get(r.trigger.name);
      if (trigger) delete trigger.rules[ruleKey];
      space.rules.delete(name);
      sendJson(res, 200, ruleJson(r, status));
      return;
    }
    if (method === "POST") {
      const body = requireObject(parseJson(await readBody(req, PUT_LIMIT))) ?? {};
      const wanted = body.status;
      if (wanted !== "active" && wanted !== "inactive") {
        throw new ApiError(400, Messages.malformed("status: must be 'active' or 'inactive'"));
      }
      const r = space.rules.get(name);
      if (!r) throw new ApiError(404, Messages.resourceDoesNotExist);
      const trigger = this.platform.namespaces.get(r.trigger.path)?.triggers.get(r.trigger.name);
      if (!trigger) throw new ApiError(404, "Only rules with existing triggers can be activated");
      trigger.rules[ruleKey] = { action: r.action, status: wanted };
      res.writeHead(200, { "content-length": 0 });
      res.end();
      return;
    }
    throw new ApiError(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
  }

  private activations(res: ServerResponse, user: Identity, route: Route, method: string): void {
    if (method !== "GET") throw new ApiError(405, "HTTP method not allowed, supported methods: GET");
    const q = route.query;
    if (route.rest.length === 0) {
      const { skip, limit } = listWindow(q, "activations");
      const epoch = (name: string) => {
        const raw = q.get(name);
        if (raw === null || raw === "") return undefined;
        const n = Number(raw);
        if (!Number.isFinite(n)) throw new ApiError(400, `Parameter is not a valid value for epoch seconds: ${raw}`);
        return n;
      };
      const name = q.get("name") ?? undefined;
      if (bool(q, "count") && bool(q, "docs"))
        throw new ApiError(400, "The parameter 'docs' is not permitted with 'count'.");
      const list = this.platform.activations.list({
        namespace: user.namespace,
        name: name || undefined,
        since: epoch("since"),
        upto: epoch("upto"),
        skip: bool(q, "count") ? 0 : skip,
        limit: bool(q, "count") ? Number.MAX_SAFE_INTEGER : limit,
      });
      if (bool(q, "count")) {
        sendJson(res, 200, { activations: list.length });
        return;
      }
      sendJson(
        res,
        200,
        list.map((a) => activationJson(a, bool(q, "docs"))),
      );
      return;
    }
    const id = route.rest[0]!;
    const a = this.platform.activations.get(id);
    if (!a || a.namespace !== user.namespace) throw new ApiError(404, Messages.resourceDoesNotExist);
    const sub = route.rest[1];
    if (sub === undefined) sendJson(res, 200, activationJson(a));
    else if (sub === "logs") sendJson(res, 200, { logs: a.logs });
    else if (sub === "result") {
      const json = responseJson(a.response);
      sendJson(res, 200, { ...json, size: Buffer.byteLength(JSON.stringify(json.result ?? {})) });
    } else throw new ApiError(404, Messages.resourceDoesNotExist);
  }
}

function bumpVersion(v: string): string {
  const [a, b, c] = v.split(".").map(Number);
  return `${a ?? 0}.${b ?? 0}.${(c ?? 0) + 1}`;
}

export function statusOf(a: Activation): number {
  if (a.response.statusCode === SUCCESS) return 200;
  if (a.response.statusCode === WHISK_ERROR) return 500;
  return 502;
}

export function blockingBody(a: Activation, result: boolean): unknown {
  if (Array.isArray(a.response.result)) return a.response.result;
  return result ? resultJson(a) : activationJson(a);
}

/** The activation, or undefined when it is not finished within ms. */
export function waitFor(done: Promise<Activation>, ms: number): Promise<Activation | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    done.then(
      (a) => {
        clearTimeout(timer);
        resolve(a);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export type { Action };
