// Creates what the system needs before its actions run: topics, databases and their indexes. Idempotent.
import type { Admin } from "kafkajs";
import { ensureTopics } from "../lib/kafka/client.ts";
import { ensureStepIndexes } from "../lib/step/store-io.ts";
import { type Cloudant, ensureDatabase } from "../lib/store/client.ts";
import { DATABASE, DATABASES, TOPICS } from "./topology.ts";

export async function provision(admin: Admin, cloudant: Cloudant): Promise<void> {
  await ensureTopics(admin, TOPICS);
  for (const db of DATABASES) {
    await ensureDatabase(cloudant, db);
    await ensureStepIndexes(cloudant, db);
  }
  // The deadline alarm's query: open work orders by deadline.
  await cloudant.postIndex({
    db: DATABASE.workorders,
    ddoc: "workorders",
    name: "open-by-deadline",
    index: { fields: [{ kind: "asc" }, { "view.open": "asc" }, { "view.deadline": "asc" }] as never },
    type: "json",
  });
}
