// Web action: GET -> the stock of every part type.

import { readEntityStates } from "../../lib/step/reads.ts";
import { DATABASE } from "../topology.ts";
import { answering, json, storeFor } from "../web.ts";
import type { Stock } from "./stock.ts";

export async function main(params: Record<string, unknown>) {
  return answering(async () => json(200, { stock: await readEntityStates<Stock>(storeFor(params), DATABASE.parts) }));
}
