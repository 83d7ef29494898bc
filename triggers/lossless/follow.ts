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

export type Settlement = { kind: "succeeded"; activationIds: string[] } | { kind: "failed"; failures: RuleFailure[] };

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

/**
 * The batch succeeded when every rule's action was started and its activation succeeded. A rule not started
 * (throttled, inactive) or an action that failed, or did not end in time (`undefined`), fails the batch.
 */
export function settle(results: RuleResult[], ends: Map<string, ActivationEnd | undefined>): Settlement {
  if (results.length === 0) return { kind: "failed", failures: [{ action: "(none)", error: "no rule ran" }] };
  const failures: RuleFailure[] = [];
  for (const result of results) {
    if (!result.success || !result.activationId) {
      failures.push({ action: result.action, error: result.error ?? `not started (status ${result.statusCode})` });
      continue;
    }
    const end = ends.get(result.activationId);
    if (!end) failures.push({ action: result.action, activationId: result.activationId, error: "did not end in time" });
    else if (!end.success) {
      const error = typeof end.error === "string" ? end.error : JSON.stringify(end.error ?? end.status ?? "failed");
      failures.push({ action: result.action, activationId: result.activationId, error });
    }
  }
  return failures.length === 0
    ? { kind: "succeeded", activationIds: results.flatMap((r) => (r.activationId ? [r.activationId] : [])) }
    : { kind: "failed", failures };
}
