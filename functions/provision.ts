// Creates what the system needs before its actions run: topics, databases and their indexes. Idempotent.
import type { Admin } from "kafkajs";
import { ensureTopics } from "../lib/kafka/client.ts";
import { ensureStepIndexes } from "../lib/step/store-io.ts";
import { startCoverage } from "../lib/step/sweeper.ts";
import { type Cloudant, ensureDatabase } from "../lib/store/client.ts";
import { DATABASE, DATABASES, SWEPT_STEPS, TOPICS } from "./topology.ts";

export async function provision(admin: Admin, cloudant: Cloudant): Promise<void> {
  await ensureTopics(admin, TOPICS);
  for (const db of DATABASES) {
    await ensureDatabase(cloudant, db);
    await ensureStepIndexes(cloudant, db);
  }
  await ensureWorkOrderIndexes(cloudant, DATABASE.workorders);
  // The coverage audit starts at the topics' current ends: what is on them now is no step's business.
  for (const step of SWEPT_STEPS) await startCoverage(step, cloudant, admin);
}

/** The deadline alarm's query: the streams' heads that are open, by deadline. */
export async function ensureWorkOrderIndexes(cloudant: Cloudant, db: string): Promise<void> {
  await cloudant.postIndex({
    db,
    ddoc: "workorders",
    name: "open-heads-by-deadline",
    index: { fields: [{ kind: "asc" }, { head: "asc" }, { "view.open": "asc" }, { "view.deadline": "asc" }] as never },
    type: "json",
  });
}
