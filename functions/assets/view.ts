// Web action: GET ?id=<assetId> -> the pump's registration and latest readings; without id, every pump.

import { readEntityState, readEntityStates } from "../../lib/step/reads.ts";
import { DATABASE } from "../topology.ts";
import { answering, json, storeFor } from "../web.ts";
import type { Pump } from "./registry.ts";

export async function main(params: Record<string, unknown>) {
  return answering(async () => {
    const cloudant = storeFor(params);
    if (typeof params.id !== "string") {
      return json(200, { pumps: await readEntityStates<Pump>(cloudant, DATABASE.assets) });
    }
    const pump = await readEntityState<Pump>(cloudant, DATABASE.assets, params.id);
    return pump ? json(200, pump) : json(404, { error: "not found" });
  });
}
