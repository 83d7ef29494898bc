// How a feed provider talks to OpenWhisk: over its REST API with the trigger owner's key, as the real providers do.
// Over HTTP or HTTPS, as the API host says: a real deployment's is HTTPS, often with a certificate of its own
// (trust it with `ca`, or skip the check with `ignoreCerts`, as wsk -i and serverless-openwhisk's ignore_certs do).
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** An OpenWhisk API host: its URL, and how to trust its certificate. */
export interface ApiHost {
  url: string;
  /** PEM certificates to trust besides the system's. */
  ca?: string;
  /** Accept any certificate: only for a self-signed one you cannot get the certificate of. */
  ignoreCerts?: boolean;
}

export interface FireOutcome {
  status: number;
  body: string;
}

const hostOf = (api: ApiHost | string): ApiHost => (typeof api === "string" ? { url: api } : api);

function call(
  api: ApiHost | string,
  authKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<FireOutcome> {
  const host = hostOf(api);
  const url = new URL(path, host.url);
  const text = body === undefined ? "" : JSON.stringify(body);
  const https = url.protocol === "https:";
  if (!https && url.protocol !== "http:") return Promise.reject(new Error(`${host.url}: not an http(s) URL`));
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(authKey).toString("base64")}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
          "user-agent": "local-openwhisk-feed",
        },
        timeout: 10_000,
        ...(https ? { ca: host.ca, rejectUnauthorized: host.ignoreCerts !== true } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(text);
  });
}

/** "/ns/name" -> the trigger's REST path. */
function triggerPath(triggerFqn: string): string {
  const [, ns, name] = triggerFqn.split("/");
  return `/api/v1/namespaces/${encodeURIComponent(ns ?? "_")}/triggers/${encodeURIComponent(name ?? "")}`;
}

export const fireTrigger = (api: ApiHost | string, authKey: string, triggerFqn: string, payload: unknown) =>
  call(api, authKey, "POST", triggerPath(triggerFqn), payload);

export const getTrigger = (api: ApiHost | string, authKey: string, triggerFqn: string) =>
  call(api, authKey, "GET", triggerPath(triggerFqn));

/** GET one activation record in the trigger's namespace: 404 until the activation has ended. */
export function getActivation(api: ApiHost | string, authKey: string, triggerFqn: string, activationId: string) {
  const [, ns] = triggerFqn.split("/");
  const path = `/api/v1/namespaces/${encodeURIComponent(ns ?? "_")}/activations/${encodeURIComponent(activationId)}`;
  return call(api, authKey, "GET", path);
}

/** The real feeds re-derive the trigger's namespace from the caller: "/<__OW_NAMESPACE>/<third path segment>". */
export function feedTriggerName(triggerName: unknown, namespace: string): string {
  const parts = String(triggerName ?? "").split("/");
  return `/${namespace}/${parts[2]}`;
}

/** 4xx other than 408, 409 and 429 disable a trigger; those and 5xx are retried. */
export const shouldDisable = (status: number) => status >= 400 && status < 500 && ![408, 409, 429].includes(status);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function flag(params: Record<string, unknown>, key: string): boolean {
  const v = params[key];
  return v === true || (v !== undefined && v !== null && v !== false && String(v).trim().toLowerCase() === "true");
}
