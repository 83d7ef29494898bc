// The system's web actions as a stranger meets them: every web action serverless.yml deploys, called over HTTP as
// anyone with its URL can. Each check is one request and what a safe answer is:
// - a request that sets a setting the code reads (any name of functions/service-settings.ts), or one of OpenWhisk's reserved
//   __ow_ properties, is refused (4xx) before any action runs (no activation id in the answer);
// - a state-changing web action answers 401 without the operator's secret, with a wrong one, and with OpenWhisk
//   credentials instead of it;
// - no answer to a valid request carries a key (the namespace's, Kafka's, the store's, the operator's secret).
import { OPERATOR_COMMANDS } from "../../functions/actions.ts";
import { BOUND_SETTING_NAMES } from "../../functions/service-settings.ts";
import { loadServerlessWiring } from "../wiring.ts";

export interface ProbeTarget {
  /** http(s)://host:port of the OpenWhisk API. */
  apiHost: string;
  namespace: string;
  /** What the operator's commands require in X-Require-Whisk-Auth. */
  operatorSecret: string;
  /** Secrets no answer may carry: the namespace's key, Kafka's and the store's credentials. */
  secrets: string[];
}

export interface ProbeCheck {
  action: string;
  what: string;
  ok: boolean;
  /** What came back, when it was not safe. */
  detail?: string;
}

type Fn = { annotations?: Record<string, unknown>; name?: string };

/** The web actions serverless.yml deploys: name (in its package) -> whether it changes state. */
export function webActions(): { action: string; command: boolean }[] {
  const functions = (loadServerlessWiring() as { functions?: Record<string, Fn | null> }).functions ?? {};
  return Object.entries(functions)
    .filter(([, fn]) => fn?.annotations?.["web-export"] === true)
    .map(([key, fn]) => ({ action: fn?.name ?? key, command: OPERATOR_COMMANDS.includes(key) }));
}

/** A request each action answers when nothing is wrong with it (a command's body fails its own validation). */
const VALID_QUERY: Record<string, string> = {
  "saga/dashboard-data": "panel=stock",
  "saga/workorders-view": "id=wo-probe",
  "saga/assets-view": "id=pump-probe",
};

interface Answer {
  status: number;
  activation: string | null;
  body: string;
}

export async function probeExposure(target: ProbeTarget): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  const base = `${target.apiHost.replace(/\/$/, "")}/api/v1/web/${target.namespace}`;
  const call = async (
    action: string,
    options: { query?: string; body?: Record<string, unknown>; headers?: Record<string, string> },
  ): Promise<Answer> => {
    const query = [VALID_QUERY[action], options.query].filter(Boolean).join("&");
    const response = await fetch(`${base}/${action}${query ? `?${query}` : ""}`, {
      method: options.body ? "POST" : "GET",
      headers: { ...(options.body ? { "content-type": "application/json" } : {}), ...options.headers },
      ...(options.body ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    return {
      status: response.status,
      activation: response.headers.get("x-openwhisk-activation-id"),
      body: await response.text(),
    };
  };
  const refused = (answer: Answer) => answer.status >= 400 && answer.status < 500 && answer.activation === null;
  const check = (action: string, what: string, ok: boolean, answer?: Answer) =>
    checks.push({
      action,
      what,
      ok,
      ...(ok || !answer
        ? {}
        : { detail: `${answer.status} ${answer.activation ? "(ran) " : ""}${answer.body.slice(0, 160)}` }),
    });
  const secretHeader = { "x-require-whisk-auth": target.operatorSecret };

  for (const { action, command } of webActions()) {
    const asCaller = command ? { headers: secretHeader, body: {} } : {};
    // A valid request: answered, and no key in the answer.
    const valid = await call(action, asCaller);
    const leaked = [...target.secrets, target.operatorSecret].filter((s) => s.length >= 8 && valid.body.includes(s));
    check(action, "answers a valid request without a key in it", valid.status < 500 && leaked.length === 0, valid);
    for (const name of [...BOUND_SETTING_NAMES, "__ow_headers", "__ow_user"]) {
      const value = "https://probe.invalid";
      const answer = command
        ? await call(action, { headers: secretHeader, body: { [name]: value } })
        : await call(action, { query: `${encodeURIComponent(name)}=${encodeURIComponent(value)}` });
      check(action, `refuses a request that sets ${name}`, refused(answer), answer);
    }
    if (command) {
      const none = await call(action, { body: {} });
      check(action, "answers 401 without the operator's secret", none.status === 401 && !none.activation, none);
      const wrong = await call(action, { body: {}, headers: { "x-require-whisk-auth": `${target.operatorSecret}x` } });
      check(action, "answers 401 with a wrong secret", wrong.status === 401 && !wrong.activation, wrong);
      const basic = { authorization: `Basic ${Buffer.from("someone:anything").toString("base64")}` };
      const stranger = await call(action, { body: {}, headers: basic });
      check(action, "answers 401 to credentials that are not the secret", stranger.status === 401, stranger);
    }
  }
  return checks;
}
