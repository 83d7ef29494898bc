// Component of request-maintenance (monitoring service): records the request once in monitoring's database, with
// its maintenance.requested in the document's outbox. The same request id again finds the first record (202 with
// the same work order); the same id for a different request is a 409.
import { clientsFor, recordOnce } from "../../lib/step/tools.ts";
import { DATABASE, TOPIC } from "../topology.ts";
import { maintenanceRequest, requestContent, requestDoc, sameContent, settingParam } from "./commands.ts";
import { component, HttpFailure } from "./http.ts";
import { storeCaller } from "./records.ts";

export const main = component("monitoring-request-record", async (params) => {
  const now = Date.now();
  const request = maintenanceRequest(params, now);
  const { cloudant } = clientsFor(params);
  const db = settingParam(params, "operator_requests_database", DATABASE.monitoring);
  const doc = requestDoc(request, now, settingParam(params, "operator_requests_topic", TOPIC.monitoring));
  const recorded = await recordOnce(cloudant, db, doc, storeCaller());
  const { requestId: _, ...earlier } = recorded.doc.request;
  if (recorded.replayed && !sameContent(earlier, requestContent(request))) {
    throw new HttpFailure(409, `request ${request.requestId} was already made with different content`, {
      field: "requestId",
      recorded: recorded.doc.request,
    });
  }
  return { requestId: request.requestId, replayed: recorded.replayed };
});
