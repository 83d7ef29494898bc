// Component of cancel-workorder (workorders service): checks the operator's cancel request.
import { cancelSchema, parseInput } from "./commands.ts";
import { component, requirePost } from "./http.ts";

export const main = component("workorders-cancel-validate", async (params) => {
  requirePost(params);
  return { ...parseInput(cancelSchema, params) };
});
