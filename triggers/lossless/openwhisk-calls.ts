// The lossless feed's calls to OpenWhisk, over its public REST API with the trigger owner's key: fire the trigger,
// then follow the activations the fire started until each has ended (or the time is up).
import { type ApiHost, fireTrigger, getActivation, sleep } from "../../lib/openwhisk/fire.ts";
import { type ActivationEnd, type Hold, holdOf, ruleResultsOf, type Settlement, settle } from "./follow.ts";

/** The `error` of an OpenWhisk error answer, or the body as it is. */
function errorOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : body;
  } catch {
    return body;
  }
}

export type FireResult =
  /** 202: the rules' actions were started. */
  | { kind: "fired"; activationId: string }
  /** Nothing ran and nothing may be committed: 204 (no active rule), 429, 408, 5xx, or no answer. Try again. */
  | ({ kind: "held" } & Hold)
  /** 404: the trigger is gone. */
  | { kind: "gone" }
  /** 401 or 403: the key is no longer good for the trigger. */
  | { kind: "unauthorized"; reason: string }
  /** Another 4xx: OpenWhisk refuses this batch as it is (too large, malformed); firing it again changes nothing. */
  | { kind: "refused"; reason: string };

export interface Target {
  api: ApiHost;
  authKey: string;
  trigger: string;
}

export async function fire(target: Target, payload: unknown): Promise<FireResult> {
  let answer: { status: number; body: string };
  try {
    answer = await fireTrigger(target.api, target.authKey, target.trigger, payload);
  } catch (err) {
    return { kind: "held", reason: `no answer: ${err instanceof Error ? err.message : err}`, perMinute: false };
  }
  const { status, body } = answer;
  if (status === 202 || status === 200) {
    const activationId = (JSON.parse(body || "{}") as { activationId?: string }).activationId;
    return activationId
      ? { kind: "fired", activationId }
      : { kind: "held", reason: `${status} without an activation id`, perMinute: false };
  }
  const said = `${status} ${body.slice(0, 200)}`.trim();
  if (status === 204) return { kind: "held", reason: "204: no active rule", perMinute: false };
  if (status === 404) return { kind: "gone" };
  if (status === 401 || status === 403) return { kind: "unauthorized", reason: said };
  if (status >= 400 && status < 500 && ![408, 409, 429].includes(status)) return { kind: "refused", reason: said };
  return { kind: "held", reason: said, perMinute: holdOf(errorOf(body))?.perMinute ?? false };
}

type Record_ = { logs?: unknown; response?: { success?: boolean; status?: string; result?: { error?: unknown } } };

/** An activation record once it exists (200), undefined while it does not (404) or cannot be read. */
async function activation(target: Target, id: string): Promise<Record_ | undefined> {
  try {
    const { status, body } = await getActivation(target.api, target.authKey, target.trigger, id);
    return status === 200 ? (JSON.parse(body) as Record_) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls, 10 ms at first and then slower (up to 100 ms), until `read` gives something or the deadline passes: a
 * partition's next batch waits for this answer, so it is asked for often (an activation of 100 ms is seen ended
 * within 30 ms of its end, one of 300 ms within 60 ms); an activation record is a cheap GET.
 */
async function until<T>(read: () => Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  let wait = 10;
  for (;;) {
    const value = await read();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    wait = Math.min(100, wait * 1.2);
  }
}

/** How the fire's rules ended, by `deadline` (epoch ms); an activation not ended by then counts as failed. */
export async function follow(target: Target, triggerActivationId: string, deadline: number): Promise<Settlement> {
  const triggerRecord = await until(() => activation(target, triggerActivationId), deadline);
  if (!triggerRecord)
    return {
      kind: "failed",
      failures: [
        { action: "(trigger)", activationId: triggerActivationId, error: "the trigger's activation never appeared" },
      ],
    };
  const results = ruleResultsOf(triggerRecord.logs);
  const ends = new Map<string, ActivationEnd | undefined>();
  await Promise.all(
    results.flatMap((result) =>
      result.success && result.activationId
        ? [
            (async (id: string) => {
              const record = await until(() => activation(target, id), deadline);
              ends.set(
                id,
                record
                  ? {
                      success: record.response?.success === true,
                      status: record.response?.status,
                      error: record.response?.result?.error,
                    }
                  : undefined,
              );
            })(result.activationId),
          ]
        : [],
    ),
  );
  return settle(results, ends);
}
