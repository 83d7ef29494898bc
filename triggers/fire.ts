// How a feed provider talks to OpenWhisk: over its REST API with the trigger owner's key, as the real providers do.
import { request } from "node:http";

export interface FireOutcome {
  status: number;
  body: string;
}

function call(apiHost: string, authKey: string, method: string, path: string, body?: unknown): Promise<FireOutcome> {
  const url = new URL(path, apiHost);
  const text = body === undefined ? "" : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
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

export const fireTrigger = (apiHost: string, authKey: string, triggerFqn: string, payload: unknown) =>
  call(apiHost, authKey, "POST", triggerPath(triggerFqn), payload);

export const getTrigger = (apiHost: string, authKey: string, triggerFqn: string) =>
  call(apiHost, authKey, "GET", triggerPath(triggerFqn));

/** GET one activation record in the trigger's namespace: 404 until the activation has ended. */
export function getActivation(apiHost: string, authKey: string, triggerFqn: string, activationId: string) {
  const [, ns] = triggerFqn.split("/");
  const path = `/api/v1/namespaces/${encodeURIComponent(ns ?? "_")}/activations/${encodeURIComponent(activationId)}`;
  return call(apiHost, authKey, "GET", path);
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
