// Component of cancel-workorder (workorders service): publishes the recorded workorder.cancel.requested (unless an
// earlier call already did) and clears the record's outbox. The saga cancels the order unless it is terminal by then.
import { clientsFor, readRecorded } from "../../lib/step/tools.ts";
import { DATABASE } from "../topology.ts";
import { settingParam } from "./commands.ts";
import { component, HttpFailure } from "./http.ts";
import { type CommandDoc, publishRecorded, storeCaller } from "./records.ts";

export const main = component("workorders-cancel-emit", async (params) => {
  const commandId = typeof params.commandId === "string" ? params.commandId : "";
  if (!commandId.startsWith("operator-cancel:"))
    throw new HttpFailure(400, "commandId: is required", { field: "commandId" });
  const clients = clientsFor(params);
  const store = storeCaller();
  const db = settingParam(params, "operator_workorders_database", DATABASE.workorders);
  const doc = await readRecorded<CommandDoc>(clients.cloudant, db, commandId, store);
  if (!doc) throw new Error(`cancel ${commandId} is not recorded`);
  const workOrderId = String(doc.request.workOrderId);
  const published = await publishRecorded(
    clients,
    db,
    doc,
    store,
    `the cancel of ${workOrderId} is recorded and goes out once Kafka is back; retrying the same request is safe`,
  );
  return { workOrderId, eventId: doc.eventId, replayed: params.replayed === true, published };
});
