// After a fire: which rules' actions ran and how they ended. A trigger activation's logs hold one JSON string per
// rule, {statusCode, success, activationId, action} (apache/openwhisk's RuleActivationResult, statusCode 0 meaning
// the rule's action was started); each started action is then followed to its own activation record.

export interface RuleResult {
  rule?: string;
  action: string;
  statusCode: number;
  success: boolean;
  activationId?: string;
  error?: string;
}

/** How one rule's action ended: its activation, or why there is none. */
export interface RuleFailure {
  action: string;
  activationId?: string;
  error: string;
}

/** Why a fire ran nothing that can count as an attempt: held and fired again later, never counted. */
export interface Hold {
  reason: string;
  /** OpenWhisk's per-minute limit refused it: nothing runs again before the minute is over. */
  perMinute: boolean;
}

export type Settlement =
  | { kind: "succeeded"; activationIds: string[] }
  | { kind: "failed"; failures: RuleFailure[] }
  | ({ kind: "held" } & Hold);

/** The rule results in a trigger activation's logs; lines that are not one are left out. */
export function ruleResultsOf(logs: unknown): RuleResult[] {
  if (!Array.isArray(logs)) return [];
  return logs.flatMap((line) => {
    try {
      const value = JSON.parse(String(line)) as Partial<RuleResult>;
      return typeof value.action === "string" && typeof value.success === "boolean"
        ? [{ ...value, statusCode: Number(value.statusCode ?? -1) } as RuleResult]
        : [];
    } catch {
      return [];
    }
  });
}

/** An activation record's end, as the REST API gives it (`response.success`, `response.result.error`). */
export interface ActivationEnd {
  success: boolean;
  status?: string;
  error?: unknown;
}

// OpenWhisk's own words (apache/openwhisk common/.../http/ErrorResponse.scala, Messages).
const INACTIVE = /^Rule '.*' is inactive, action '.*' was not activated\.$/;
const PER_MINUTE = /^Too many requests in the last minute/;
const CONCURRENT = /^Too many concurrent requests in flight/;
/** RuleActivationResult's statusCode of a rule whose action could not be invoked for a platform failure (5xx). */
const WHISK_ERROR = 3;

/** Why a fire's rule result or activation is not the action's failure but the platform's: nothing to count. */
export function holdOf(text: string, statusCode?: number): Hold | undefined {
  if (PER_MINUTE.test(text)) return { reason: text, perMinute: true };
  if (CONCURRENT.test(text) || statusCode === WHISK_ERROR) return { reason: text, perMinute: false };
  return undefined;
}

/**
 * How a fire settled. An inactive rule (disabled during a redeploy) is no failure while another rule is active. A
 * definite failure of an action counts as an attempt; a rule the platform throttled or could not start, or an
 * activation that ended in a whisk internal error, is held: the batch is fired again, and nothing is counted.
 */
export function settle(results: RuleResult[], ends: Map<string, ActivationEnd | undefined>): Settlement {
  const active = results.filter((result) => !(result.error && INACTIVE.test(result.error)));
  if (results.length === 0) return { kind: "failed", failures: [{ action: "(none)", error: "no rule ran" }] };
  if (active.length === 0) return { kind: "held", reason: "every rule is inactive", perMinute: false };
  const failures: RuleFailure[] = [];
  const holds: Hold[] = [];
  for (const result of active) {
    if (!result.success || !result.activationId) {
      const error = result.error ?? `not started (status ${result.statusCode})`;
      const hold = holdOf(error, result.statusCode);
      if (hold) holds.push(hold);
      else failures.push({ action: result.action, error });
      continue;
    }
    const end = ends.get(result.activationId);
    if (!end) failures.push({ action: result.action, activationId: result.activationId, error: "did not end in time" });
    else if (end.status === "whisk internal error")
      holds.push({ reason: `${result.action}: whisk internal error`, perMinute: false });
    else if (!end.success) {
      const error = typeof end.error === "string" ? end.error : JSON.stringify(end.error ?? end.status ?? "failed");
      failures.push({ action: result.action, activationId: result.activationId, error });
    }
  }
  if (failures.length > 0) return { kind: "failed", failures };
  if (holds.length > 0)
    return { kind: "held", reason: holds.map((h) => h.reason).join("; "), perMinute: holds.some((h) => h.perMinute) };
  return { kind: "succeeded", activationIds: active.flatMap((r) => (r.activationId ? [r.activationId] : [])) };
}
