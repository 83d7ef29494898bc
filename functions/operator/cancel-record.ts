// Component of cancel-workorder (workorders service): records the cancel once in the workorders database, with its
// workorder.cancel.requested in the document's outbox (not a stream commit: the saga's streams are its own).
import { clientsFor, recordOnce } from "../../lib/step/tools.ts";
import { DATABASE, TOPIC } from "../topology.ts";
import { cancelDoc, cancelSchema, parseInput, settingParam } from "./commands.ts";
import { component } from "./http.ts";
import { storeCaller } from "./records.ts";

export const main = component("workorders-cancel-record", async (params) => {
  const cancel = parseInput(cancelSchema, params);
  const incidentId = typeof params.incidentId === "string" ? params.incidentId : "";
  const { cloudant } = clientsFor(params);
  const db = settingParam(params, "operator_workorders_database", DATABASE.workorders);
  const topic = settingParam(params, "operator_commands_topic", TOPIC.commands);
  const recorded = await recordOnce(cloudant, db, cancelDoc(cancel, incidentId, Date.now(), topic), storeCaller());
  return { workOrderId: cancel.workOrderId, commandId: recorded.doc._id, replayed: recorded.replayed };
});
