// What the pump maintenance system needs before its actions run (lib/provisioner.ts does it): its topics, with their
// partitions and retention; a database per service with the step kit's indexes and the deadline alarm's; and where
// each step's coverage audit starts.
import type { Admin } from "kafkajs";
import { type Change, type ProvisionOptions, type ProvisionPlan, provision } from "../lib/provisioner.ts";
import { STEP_INDEXES } from "../lib/step/tools.ts";
import type { Cloudant } from "../lib/store/client.ts";
import { DATABASE, DATABASES, SWEPT_STEPS, TOPICS } from "./topology.ts";

/** The deadline alarm's query: the streams' heads that are open, by deadline. */
export const WORKORDER_INDEX = {
  ddoc: "workorders",
  name: "open-heads-by-deadline",
  fields: ["kind", "head", "view.open", "view.deadline"],
};

export const SAGA_PLAN: ProvisionPlan = {
  topics: TOPICS,
  databases: DATABASES.map((name) => ({
    name,
    indexes: [...STEP_INDEXES, ...(name === DATABASE.workorders ? [WORKORDER_INDEX] : [])],
  })),
  coverage: SWEPT_STEPS,
};

export function provisionSaga(admin: Admin, cloudant: Cloudant, options: ProvisionOptions = {}): Promise<Change[]> {
  return provision(SAGA_PLAN, { admin, cloudant }, options);
}

/** The deadline alarm's index in a database of one's own (tests). */
export async function ensureWorkOrderIndexes(cloudant: Cloudant, db: string): Promise<void> {
  const index = { fields: WORKORDER_INDEX.fields.map((field) => ({ [field]: "asc" })) } as never;
  await cloudant.postIndex({ db, ddoc: WORKORDER_INDEX.ddoc, name: WORKORDER_INDEX.name, index, type: "json" });
}
