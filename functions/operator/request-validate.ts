// Component of request-maintenance (monitoring service): checks the operator's request and settles its id.
import { maintenanceRequest } from "./commands.ts";
import { component, requirePost } from "./http.ts";

export const main = component("monitoring-request-validate", async (params) => {
  requirePost(params);
  return { ...maintenanceRequest(params, Date.now()) };
});
