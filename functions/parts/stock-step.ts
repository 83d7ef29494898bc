// Action: spare-part stock; reserves for opened work orders, releases for cancelled ones, consumes for scheduled
// ones, and adds deliveries.
import { defineEntityStep } from "../../lib/step/index.ts";
import { entitySpec } from "../steps.ts";
import { applyToStock } from "./stock.ts";

export const stockSpec = entitySpec("parts.stock", { entityOf: (event) => event.data.partType, handle: applyToStock });
export const stockStep = defineEntityStep(stockSpec);
export const main = stockStep.main;
