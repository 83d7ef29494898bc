// Web actions: /api/v1/web/{namespace}/{package|default}/{action}[.json|.http|.text|.html][/path], answered from
// the action's result as OpenWhisk's WebActions do (the common cases; see README for what is not covered).
import type { IncomingMessage, ServerResponse } from "node:http";
import { isRecord } from "../lib/narrow.ts";
import { type Activation, APPLICATION_ERROR, SUCCESS } from "./activations.ts";
import { waitFor } from "./controller.ts";
import { validName } from "./entities.ts";
import { ApiError, Messages, transactionId } from "./errors.ts";
import { readBody, sendJson } from "./http.ts";
import { annotation, isTruthy } from "./key-values.ts";
import type { Identity, Platform } from "./platform.ts";
import { sameSecret } from "./secrets.ts";

const EXTENSIONS = ["json", "http", "text", "html", "svg"] as const;
type Extension = (typeof EXTENSIONS)[number];

/** Who a request's Authorization header names, when its credentials are valid. */
export type Authenticate = (authorization: string | undefined) => Identity | undefined;

/** What a web request may not set: OpenWhisk's reserved properties (the action's final parameters are checked apart). */
const RESERVED = new Set(["__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_body", "__ow_query"]);

/**
 * `require-whisk-auth`, as OpenWhisk's WebActions reads it: a string or number must equal the X-Require-Whisk-Auth
 * header (compared in constant time); true asks for valid OpenWhisk credentials; false or absent, anyone.
 */
function authorized(annotationValue: unknown, req: IncomingMessage, caller: Identity | undefined): boolean {
  if (annotationValue === undefined || annotationValue === false) return true;
  if (annotationValue === true) return caller !== undefined;
  if (typeof annotationValue !== "string" && typeof annotationValue !== "number") return false;
  const given = req.headers["x-require-whisk-auth"];
  return typeof given === "string" && sameSecret(given, String(annotationValue));
}

export async function handleWeb(
  platform: Platform,
  owner: Identity,
  authenticate: Authenticate,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  query: URLSearchParams,
  rawQuery: string,
): Promise<void> {
  const [nsSegment, pkgSegment, actionSegment, ...rest] = segments;
  if (!nsSegment || !pkgSegment || !actionSegment) throw new ApiError(404, Messages.resourceDoesNotExist);
  const namespace = nsSegment === "_" ? owner.namespace : nsSegment;
  const dot = actionSegment.lastIndexOf(".");
  let name = actionSegment;
  let ext: Extension = "http";
  if (dot > 0 && EXTENSIONS.includes(actionSegment.slice(dot + 1) as Extension)) {
    name = actionSegment.slice(0, dot);
    ext = actionSegment.slice(dot + 1) as Extension;
  }
  validName(name);
  const pkg = pkgSegment === "default" ? undefined : pkgSegment;
  const user: Identity = namespace === owner.namespace ? owner : { ...owner, namespace };
  let resolved: ReturnType<Platform["resolveAction"]>;
  try {
    resolved = platform.resolveAction(user, { namespace, pkg, name });
  } catch {
    throw new ApiError(404, Messages.resourceDoesNotExist);
  }
  const annotations = resolved.action.annotations;
  if (!isTruthy(annotations, "web-export")) throw new ApiError(404, Messages.resourceDoesNotExist);
  const caller = authenticate(req.headers.authorization);
  if (!authorized(annotation(annotations, "require-whisk-auth"), req, caller)) {
    throw new ApiError(401, Messages.authInvalid);
  }
  const body = await readBody(req, platform.options.limits.payloadBytes);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
  const raw = isTruthy(annotations, "raw-http");
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  const requestParams: Record<string, unknown> = {};
  if (raw) {
    requestParams.__ow_query = rawQuery;
    if (body.length > 0)
      requestParams.__ow_body = isText(contentType) ? body.toString("utf8") : body.toString("base64");
  } else {
    // What the caller names: the query's and the body's fields may not be OpenWhisk's reserved properties.
    const named = (key: string) => {
      if (RESERVED.has(key)) throw new ApiError(400, Messages.parametersNotAllowed);
      return key;
    };
    for (const [k, v] of query) requestParams[named(k)] = v;
    if (body.length > 0) {
      if (contentType === "application/json") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch (err) {
          throw new ApiError(400, Messages.malformed(String(err)));
        }
        if (isRecord(parsed)) for (const [k, v] of Object.entries(parsed)) requestParams[named(k)] = v;
        else requestParams.__ow_body = parsed;
      } else if (contentType === "application/x-www-form-urlencoded") {
        for (const [k, v] of new URLSearchParams(body.toString("utf8"))) requestParams[named(k)] = v;
      } else {
        requestParams.__ow_body = isText(contentType) ? body.toString("utf8") : body.toString("base64");
      }
    }
  }
  platform.checkFinal(resolved, requestParams);
  const payload = {
    ...requestParams,
    __ow_method: (req.method ?? "GET").toLowerCase(),
    __ow_headers: headers,
    __ow_path: rest.length > 0 ? `/${rest.join("/")}` : "",
    ...(caller ? { __ow_user: caller.namespace } : {}),
  };
  const started = platform.startInvocation(user, { namespace, pkg, name }, payload);
  const activation = await waitFor(started.done, platform.options.limits.maxBlockingWaitMs);
  const idHeader = { "x-openwhisk-activation-id": started.activationId };
  if (!activation) {
    sendJson(res, 202, { activationId: started.activationId }, idHeader);
    return;
  }
  respond(res, activation, ext, rest, idHeader);
}

function isText(contentType: string): boolean {
  return (
    contentType === "" ||
    contentType.startsWith("text/") ||
    contentType.endsWith("+json") ||
    contentType.endsWith("+xml") ||
    contentType === "application/xml" ||
    contentType === "application/javascript"
  );
}

function respond(
  res: ServerResponse,
  activation: Activation,
  ext: Extension,
  path: string[],
  idHeader: Record<string, string>,
): void {
  const result = activation.response.result;
  if (activation.response.statusCode !== SUCCESS) {
    const error = isRecord(result) ? result.error : undefined;
    if (
      activation.response.statusCode === APPLICATION_ERROR &&
      ext === "http" &&
      isRecord(error) &&
      "statusCode" in error
    ) {
      httpResult(res, error, idHeader);
      return;
    }
    const status =
      activation.response.statusCode === APPLICATION_ERROR ? 400 : activation.response.statusCode === 3 ? 500 : 502;
    sendJson(
      res,
      status,
      {
        error: typeof error === "string" ? error : "There was an error processing your request.",
        code: transactionId(),
      },
      idHeader,
    );
    return;
  }
  let projected: unknown = result;
  for (const segment of ext === "http" ? [] : path) {
    projected = isRecord(projected) ? projected[segment] : undefined;
  }
  if (ext === "json") {
    if (projected === undefined) throw new ApiError(400, "Response does not include requested property.");
    sendJson(res, 200, projected, idHeader);
    return;
  }
  if (ext === "text" || ext === "html" || ext === "svg") {
    const field = ext === "svg" ? "svg" : ext;
    const value = isRecord(projected) && path.length === 0 ? projected[field] : projected;
    if (typeof value !== "string") throw new ApiError(400, "Response does not include requested property.");
    const type = ext === "text" ? "text/plain" : ext === "html" ? "text/html" : "image/svg+xml";
    res.writeHead(200, { "content-type": `${type}; charset=UTF-8`, ...idHeader });
    res.end(value);
    return;
  }
  if (!isRecord(result)) throw new ApiError(400, "Response did not specify a known content-type.");
  httpResult(res, result, idHeader);
}

function httpResult(res: ServerResponse, result: Record<string, unknown>, idHeader: Record<string, string>): void {
  const headers: Record<string, string> = {};
  if (isRecord(result.headers)) {
    for (const [k, v] of Object.entries(result.headers)) headers[k.toLowerCase()] = String(v);
  }
  const code =
    typeof result.statusCode === "number"
      ? result.statusCode
      : typeof result.code === "number"
        ? result.code
        : undefined;
  const body = result.body;
  let payload: Buffer | undefined;
  if (body === undefined || body === null || body === "") {
    payload = undefined;
  } else if (typeof body === "string") {
    const type = headers["content-type"] ?? "text/html";
    headers["content-type"] = type;
    payload =
      isText(type.split(";")[0]!.trim().toLowerCase()) || type.startsWith("application/json")
        ? Buffer.from(body, "utf8")
        : Buffer.from(body, "base64");
  } else {
    headers["content-type"] = headers["content-type"] ?? "application/json";
    payload = Buffer.from(JSON.stringify(body));
  }
  const status = code ?? (payload ? 200 : 204);
  res.writeHead(status, { ...headers, ...idHeader, "content-length": payload?.length ?? 0 });
  res.end(payload);
}
