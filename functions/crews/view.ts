// Web action: GET -> every site's technicians, their load per day and the assignments.

import { readEntityStates } from "../../lib/step/reads.ts";
import { DATABASE } from "../topology.ts";
import { answering, json, storeFor } from "../web.ts";
import type { Roster } from "./roster.ts";

export async function main(params: Record<string, unknown>) {
  return answering(async () => json(200, { sites: await readEntityStates<Roster>(storeFor(params), DATABASE.crews) }));
}
