// Packages, triggers and rules under /api/v1/namespaces/{ns}/{collection}: one CRUD (list, GET, PUT with
// ?overwrite, DELETE, and POST where the collection has one) driven by a table of what differs between them.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  actionKey,
  type Namespace,
  type Package,
  type Rule,
  resolveName,
  type Trigger,
  validName,
} from "./entities.ts";
import { packageFromPut, packageJson, ruleJson, triggerFromPut, triggerJson } from "./entity-bodies.ts";
import { ApiError, Messages } from "./errors.ts";
import { parseJson, readBody, sendJson } from "./http.ts";
import { annotation } from "./key-values.ts";
import type { Identity, Platform } from "./platform.ts";

const PUT_LIMIT = 50 * 1024 * 1024;

export interface Route {
  namespace: string;
  collection: string;
  rest: string[];
  query: URLSearchParams;
}

/** What a collection's handlers know of the request. */
export interface EntityRequest {
  platform: Platform;
  user: Identity;
  ns: string;
  space: Namespace;
  name: string;
  query: URLSearchParams;
  req: IncomingMessage;
}

interface Collection<E extends { updated: number }> {
  entities(space: Namespace): Map<string, E>;
  /** The entity as a list shows it, as GET shows it, and as PUT and DELETE answer it. */
  json(entity: E, at: EntityRequest, form: "list" | "get" | "written"): unknown;
  /** Refuses a PUT body of the wrong shape, before the entity is looked up (as the controller orders it). */
  checkBody?(body: unknown): void;
  /** Builds the entity from a PUT body (the old one when overwriting), checking what it refers to. */
  put(body: unknown, at: EntityRequest, old: E | undefined): E;
  /** Checks a DELETE and unlinks the entity from others. */
  remove?(entity: E, at: EntityRequest): void;
  /** POST on an entity: fire a trigger, enable or disable a rule. */
  post?(at: EntityRequest, res: ServerResponse): Promise<void>;
}

export function listWindow(query: URLSearchParams, collection: string): { skip: number; limit: number } {
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

export const bool = (query: URLSearchParams, name: string) => query.get(name) === "true";

export function page<T>(items: T[], query: URLSearchParams, collection: string): T[] {
  const { skip, limit } = listWindow(query, collection);
  return items.slice(skip, skip + limit);
}

export const byUpdated = <T extends { updated: number }>(items: Iterable<T>) =>
  [...items].sort((a, b) => b.updated - a.updated);

export function requireObject(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError(400, Messages.malformed("Object expected"));
  }
  return value as Record<string, unknown>;
}

export function bumpVersion(v: string): string {
  const [a, b, c] = v.split(".").map(Number);
  return `${a ?? 0}.${b ?? 0}.${(c ?? 0) + 1}`;
}

const triggerOf = (platform: Platform, ref: { path: string; name: string }) =>
  platform.namespaces.get(ref.path)?.triggers.get(ref.name);

function ruleStatus(platform: Platform, r: Rule): "active" | "inactive" {
  return triggerOf(platform, r.trigger)?.rules[`${r.namespace}/${r.name}`]?.status ?? "inactive";
}

function packageContents(at: EntityRequest) {
  const actions = [...at.space.actions.values()].filter((a) => a.pkg === at.name);
  return {
    actions: actions.filter((a) => !annotation(a.annotations, "feed")),
    feeds: actions.filter((a) => annotation(a.annotations, "feed")),
  };
}

const packages: Collection<Package> = {
  entities: (space) => space.packages,
  json: (p, at, form) => {
    if (form !== "get") return packageJson(p);
    const { actions, feeds } = packageContents(at);
    return packageJson(p, actions, feeds);
  },
  put: (body, at, old) => {
    const p = packageFromPut(body, at.ns, at.name, old);
    if (p.binding) {
      const bound = at.platform.namespaces.get(p.binding.namespace)?.packages.get(p.binding.name);
      if (!bound) throw new ApiError(400, "Binding references a package that does not exist.");
      if (bound.binding) throw new ApiError(400, "Cannot bind to another package binding.");
    }
    return p;
  },
  remove: (_p, at) => {
    const { actions, feeds } = packageContents(at);
    const count = actions.length + feeds.length;
    if (count > 0 && !bool(at.query, "force")) {
      throw new ApiError(409, `Package not empty (contains ${count} ${count === 1 ? "entity" : "entities"})`);
    }
    for (const a of [...actions, ...feeds]) at.space.actions.delete(actionKey(a.pkg, a.name));
  },
};

const triggers: Collection<Trigger> = {
  entities: (space) => space.triggers,
  json: (t, _at, form) => triggerJson(t, form !== "list"),
  put: (body, at, old) => triggerFromPut(body, at.ns, at.name, old),
  post: async (at, res) => {
    const body = requireObject(parseJson(await readBody(at.req, at.platform.options.limits.payloadBytes)));
    // As OpenWhisk 2.0's controller does (#5273): the request's headers reach the rules' actions as __ow_headers.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(at.req.headers)) {
      if (k === "content-type" || k === "content-length" || v === undefined) continue;
      headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    const id = at.platform.fireTrigger(at.user, at.name, body, headers);
    if (id === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    sendJson(res, 202, { activationId: id }, { "x-openwhisk-activation-id": id });
  },
};

const rules: Collection<Rule> = {
  entities: (space) => space.rules,
  json: (r, at) => ruleJson(r, ruleStatus(at.platform, r)),
  checkBody: (raw) => requireObject(raw),
  put: (raw, at, old) => {
    const body = requireObject(raw) ?? {};
    if (typeof body.trigger !== "string" || typeof body.action !== "string") {
      throw new ApiError(400, "rule requires a valid trigger and a valid action");
    }
    const tn = resolveName(body.trigger, at.user.namespace);
    if (tn.pkg) throw new ApiError(400, Messages.entityNameIllegal);
    const an = resolveName(body.action, at.user.namespace);
    const trigger = at.platform.namespaces.get(tn.namespace)?.triggers.get(tn.name);
    if (!trigger) throw new ApiError(400, Messages.resourceDoesNotExist);
    try {
      at.platform.resolveAction(at.user, an);
    } catch {
      throw new ApiError(400, Messages.resourceDoesNotExist);
    }
    const ruleKey = `${at.ns}/${at.name}`;
    const status = old ? ruleStatus(at.platform, old) : "active";
    if (old) {
      const oldTrigger = triggerOf(at.platform, old.trigger);
      if (oldTrigger) delete oldTrigger.rules[ruleKey];
    }
    const rule: Rule = {
      namespace: at.ns,
      name: at.name,
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
    return rule;
  },
  remove: (r, at) => {
    const trigger = triggerOf(at.platform, r.trigger);
    if (trigger) delete trigger.rules[`${at.ns}/${at.name}`];
  },
  post: async (at, res) => {
    const body = requireObject(parseJson(await readBody(at.req, PUT_LIMIT))) ?? {};
    const wanted = body.status;
    if (wanted !== "active" && wanted !== "inactive") {
      throw new ApiError(400, Messages.malformed("status: must be 'active' or 'inactive'"));
    }
    const r = at.space.rules.get(at.name);
    if (!r) throw new ApiError(404, Messages.resourceDoesNotExist);
    const trigger = triggerOf(at.platform, r.trigger);
    if (!trigger) throw new ApiError(404, "Only rules with existing triggers can be activated");
    trigger.rules[`${at.ns}/${at.name}`] = { action: r.action, status: wanted };
    res.writeHead(200, { "content-length": 0 });
    res.end();
  },
};

/** The collections this table serves; actions and activations have their own handlers. */
export const COLLECTIONS = { packages, triggers, rules } as const;

export async function serveCollection<E extends { updated: number }>(
  collection: Collection<E>,
  collectionName: string,
  platform: Platform,
  req: IncomingMessage,
  res: ServerResponse,
  user: Identity,
  ns: string,
  route: Route,
): Promise<void> {
  const method = req.method ?? "GET";
  const space = platform.ns(ns);
  const items = collection.entities(space);
  const allowed = ["GET", "PUT", "DELETE", ...(collection.post ? ["POST"] : [])];
  const notAllowed = (methods: string[]) =>
    new ApiError(405, `HTTP method not allowed, supported methods: ${methods.join(", ")}`);
  if (route.rest.length === 0) {
    if (method !== "GET") throw notAllowed(["GET"]);
    const base = { platform, user, ns, space, name: "", query: route.query, req };
    const listed = page(byUpdated(items.values()), route.query, collectionName);
    sendJson(
      res,
      200,
      listed.map((entity) => collection.json(entity, base, "list")),
    );
    return;
  }
  if (route.rest.length !== 1) throw new ApiError(404, Messages.resourceDoesNotExist);
  const at: EntityRequest = { platform, user, ns, space, name: validName(route.rest[0]!), query: route.query, req };
  const existing = () => {
    const entity = items.get(at.name);
    if (!entity) throw new ApiError(404, Messages.resourceDoesNotExist);
    return entity;
  };
  switch (method) {
    case "GET":
      sendJson(res, 200, collection.json(existing(), at, "get"));
      return;
    case "PUT": {
      const body = parseJson(await readBody(req, PUT_LIMIT));
      collection.checkBody?.(body);
      const old = items.get(at.name);
      if (old && !bool(route.query, "overwrite")) throw new ApiError(409, Messages.resourceExists);
      const entity = collection.put(body, at, old);
      items.set(at.name, entity);
      sendJson(res, 200, collection.json(entity, at, "written"));
      return;
    }
    case "DELETE": {
      const entity = existing();
      // Answered as it was before it went (a rule's status, for one).
      const answer = collection.json(entity, at, "written");
      collection.remove?.(entity, at);
      items.delete(at.name);
      sendJson(res, 200, answer);
      return;
    }
    case "POST":
      if (collection.post) return collection.post(at, res);
      throw notAllowed(allowed);
    default:
      throw notAllowed(allowed);
  }
}
