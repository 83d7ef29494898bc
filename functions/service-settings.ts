// The services' own settings, by name, beside the shared machinery's (lib/config/parameters.ts): together, every
// parameter name the system's code reads as a setting. serverless.yml binds each of them to the package, so that a
// web request setting one is refused (test/unit/exposure.test.ts holds it to this list).
import { KIT_SETTING_NAMES } from "../lib/config/parameters.ts";

export const SERVICE_SETTINGS = {
  workorderDeadlineMs: "workorder_deadline_ms",
  stockDefault: "stock_default",
  /** Stock at start for some part types, `type=count,type=count`; the others start with stock_default. */
  stockByPartType: "stock_by_part_type",
  crewsCapacityPerDay: "crews_capacity_per_day",
  restockQuantity: "restock_quantity",
  // Where the operator's commands are recorded and published: the owning service's database and topic unless bound
  // otherwise (the end-to-end tests bind private ones so as not to meet a saga running on the same stack).
  operatorRequestsDatabase: "operator_requests_database",
  operatorRequestsTopic: "operator_requests_topic",
  operatorWorkordersDatabase: "operator_workorders_database",
  operatorCommandsTopic: "operator_commands_topic",
  operatorPartsDatabase: "operator_parts_database",
  operatorDeliveriesTopic: "operator_deliveries_topic",
} as const;

export type ServiceSetting = (typeof SERVICE_SETTINGS)[keyof typeof SERVICE_SETTINGS];

/** Every setting name the system reads from its parameters: each one is bound at deploy. */
export const BOUND_SETTING_NAMES: readonly string[] = [...KIT_SETTING_NAMES, ...Object.values(SERVICE_SETTINGS)];
