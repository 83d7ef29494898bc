// Web action: GET ?id=<assetId> -> the pump's registration and latest readings; without id, every pump.
import { DATABASE } from "../topology.ts";
import { allEntities, answering, json, storeFor } from "../web.ts";
import type { Pump } from "./registry.ts";

export async function main(params: Record<string, unknown>) {
  return answering(async () => {
    const cloudant = storeFor(params);
    if (typeof params.id !== "string") return json(200, { pumps: await allEntities<Pump>(cloudant, DATABASE.assets) });
    const doc = await cloudant.getDocument({ db: DATABASE.assets, docId: `entity:${params.id}` });
    return json(200, (doc.result as unknown as { state: Pump }).state);
  });
}
