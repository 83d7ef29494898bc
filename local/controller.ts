// The REST API under /api/v1/namespaces: packages, actions, triggers, rules, activations.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Activation, activationJson, responseJson, resultJson, SUCCESS, WHISK_ERROR } from "./activations.ts";
import {
  bool,
  byUpdated,
  COLLECTIONS,
  listWindow,
  page,
  type Route,
  requireObject,
  serveCollection,
} from "./collections.ts";
import { type Action, actionKey, resolveName, splitActionName } from "./entities.ts";
import { actionFromPut, actionJson } from "./entity-bodies.ts";
import { ApiError, Messages } from "./errors.ts";
import { parseJson, readBody, sendJson } from "./http.ts";
import { type Identity, type Platform, SYSTEM_NAMESPACE } from "./platform.ts";

const PUT_LIMIT = 50 * 1024 * 1024;

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
        return serveCollection(COLLECTIONS.packages, "packages", this.platform, req, res, user, ns, route);
      case "triggers":
        return serveCollection(COLLECTIONS.triggers, "triggers", this.platform, req, res, user, ns, route);
      case "rules":
        return serveCollection(COLLECTIONS.rules, "rules", this.platform, req, res, user, ns, route);
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
