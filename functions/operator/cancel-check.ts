// Component of cancel-workorder (workorders service): the work order must exist (404) and not be scheduled or
// cancelled already (409). Reads the workorders database as functions/workorders/view.ts does: the event stream,
// replayed.
import { readStreams, replay } from "../../lib/step/index.ts";
import { DATABASE } from "../topology.ts";
import { storeFor } from "../web.ts";
import { evolve, isTerminal } from "../workorders/saga.ts";
import { cancelSchema, parseInput, settingParam } from "./commands.ts";
import { component, HttpFailure } from "./http.ts";
import { storeCaller } from "./records.ts";

export const main = component("workorders-cancel-check", async (params) => {
  const cancel = parseInput(cancelSchema, params);
  const store = storeCaller();
  const cloudant = storeFor(params);
  const db = settingParam(params, "operator_workorders_database", DATABASE.workorders);
  const streams = await store(() => readStreams(cloudant, db, [cancel.workOrderId]));
  const commits = streams.get(cancel.workOrderId) ?? [];
  const order = replay(evolve, commits).state;
  if (!order) throw new HttpFailure(404, `no work order ${cancel.workOrderId}`, { field: "workOrderId" });
  if (isTerminal(order)) {
    throw new HttpFailure(409, `work order ${cancel.workOrderId} is already ${order.status}`, {
      field: "workOrderId",
      status: order.status,
      ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}),
    });
  }
  return { ...cancel, incidentId: order.incidentId, status: order.status };
});
