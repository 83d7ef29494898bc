// Component of request-maintenance (monitoring service): publishes the recorded maintenance.requested (unless an
// earlier call already did) and clears the record's outbox.
import { clientsFor, readRecorded } from "../../lib/step/tools.ts";
import * as z from "../../lib/zod.ts";
import { DATABASE } from "../topology.ts";
import { maintenanceRequestSchema, parseInput, requestDocId, requestSummary, settingParam } from "./commands.ts";
import { component } from "./http.ts";
import { type CommandDoc, publishRecorded, storeCaller } from "./records.ts";

export const main = component("monitoring-request-emit", async (params) => {
  const { requestId } = parseInput(z.required(z.pick(maintenanceRequestSchema, { requestId: true })), params);
  const clients = clientsFor(params);
  const store = storeCaller();
  const db = settingParam(params, "operator_requests_database", DATABASE.monitoring);
  const doc = await readRecorded<CommandDoc>(clients.cloudant, db, requestDocId(requestId), store);
  if (!doc) throw new Error(`request ${requestId} is not recorded`);
  const published = await publishRecorded(
    clients,
    db,
    doc,
    store,
    `request ${requestId} is recorded and goes out once Kafka is back; retrying with the same requestId is safe`,
  );
  return { ...requestSummary(doc), replayed: params.replayed === true, published };
});
