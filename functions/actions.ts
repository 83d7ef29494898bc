// Every action of the system and what it is built from (scripts/build.ts bundles each into dist/<name>.js, which
// serverless.yml deploys): the steps' actions come from their declaration in topology.ts. functions/ is the pump
// maintenance system itself, its services' actions, events and topology; it imports lib/ and nothing else of ours.
import { actionOf, STEP_NAMES, STEPS } from "./topology.ts";

/** Actions bundled from a TypeScript module: name -> module. */
export const ACTION_ENTRIES: Record<string, string> = {
  ...Object.fromEntries(STEP_NAMES.map((step) => [actionOf(step), STEPS[step].module])),
  "assets-view": "functions/assets/view.ts",
  "workorders-deadlines": "functions/workorders/deadlines.ts",
  "workorders-view": "functions/workorders/view.ts",
  "parts-view": "functions/parts/view.ts",
  "parts-deliveries": "functions/parts/deliveries.ts",
  "parts-restock": "functions/parts/restock.ts",
  "crews-view": "functions/crews/view.ts",
  "saga-relay": "functions/relay.ts",
  dashboard: "functions/dashboard/page.ts",
  "dashboard-data": "functions/dashboard/data.ts",
  // Components of the operator compositions (CONDUCTORS below): request-maintenance (monitoring) and
  // cancel-workorder (workorders).
  "monitoring-request-validate": "functions/operator/request-validate.ts",
  "monitoring-request-record": "functions/operator/request-record.ts",
  "monitoring-request-emit": "functions/operator/request-emit.ts",
  "workorders-cancel-validate": "functions/operator/cancel-validate.ts",
  "workorders-cancel-check": "functions/operator/cancel-check.ts",
  "workorders-cancel-record": "functions/operator/cancel-record.ts",
  "workorders-cancel-emit": "functions/operator/cancel-emit.ts",
};

export type KafkaClient = "admin" | "consumer";

/**
 * The KafkaJS clients an action creates besides its producer. KafkaJS's consumer and admin client are a fifth of a
 * step's bundle (about 58 KB, 6 ms of CPU at every cold start), so the build leaves them out of every action not
 * named here (scripts/build.ts): there, `kafka.consumer()` or `kafka.admin()` throws an error naming this list.
 * test/unit/kafka-clients.test.ts fails when the code bundled into an action calls one the action is not given.
 */
export const KAFKA_CLIENTS: Record<string, readonly KafkaClient[]> = {
  // The relay's coverage sweep and the dashboard's dead letters and lag read offsets, and records of a range with a
  // short-lived consumer (lib/kafka/read-range.ts).
  "saga-relay": ["admin", "consumer"],
  "dashboard-data": ["admin", "consumer"],
};

/** Conductor actions (scripts/conductors.ts synthesizes them with Composer): name -> the composition's source. */
export const CONDUCTORS: Record<string, string> = {
  "request-maintenance": "functions/operator/compositions/request-maintenance.js",
  "cancel-workorder": "functions/operator/compositions/cancel-workorder.js",
};

/** Web actions that change state: each requires the operator's secret (serverless.yml: require-whisk-auth). */
export const OPERATOR_COMMANDS: readonly string[] = ["parts-restock", "request-maintenance", "cancel-workorder"];
