// Every action of the system and the TypeScript module it is built from (scripts/build.ts bundles each into
// dist/<name>.js, which serverless.yml deploys).
export const ACTION_ENTRIES: Record<string, string> = {
  "assets-registry": "functions/assets/registry-step.ts",
  "assets-view": "functions/assets/view.ts",
  "monitoring-detect": "functions/monitoring/detect-step.ts",
  "workorders-saga": "functions/workorders/saga-step.ts",
  "workorders-deadlines": "functions/workorders/deadlines.ts",
  "workorders-view": "functions/workorders/view.ts",
  "parts-stock": "functions/parts/stock-step.ts",
  "parts-view": "functions/parts/view.ts",
  "parts-deliveries": "functions/parts/deliveries.ts",
  "parts-restock": "functions/parts/restock.ts",
  "crews-roster": "functions/crews/roster-step.ts",
  "crews-view": "functions/crews/view.ts",
  "saga-relay": "functions/relay.ts",
  // Components of the operator compositions (functions/operator/compositions, deployed by
  // scripts/deploy-compositions.ts): request-maintenance (monitoring) and cancel-workorder (workorders).
  "monitoring-request-validate": "functions/operator/request-validate.ts",
  "monitoring-request-record": "functions/operator/request-record.ts",
  "monitoring-request-emit": "functions/operator/request-emit.ts",
  "workorders-cancel-validate": "functions/operator/cancel-validate.ts",
  "workorders-cancel-check": "functions/operator/cancel-check.ts",
  "workorders-cancel-record": "functions/operator/cancel-record.ts",
  "workorders-cancel-emit": "functions/operator/cancel-emit.ts",
};
