// Action: spare-part stock; reserves for opened work orders, releases for cancelled ones, consumes for scheduled
// ones, and adds deliveries.
import { defineEntityStep } from "../../lib/step/define.ts";
import type { EntityStepSpec } from "../../lib/step/spec.ts";
import { stepBasics } from "../steps.ts";
import { applyToStock, STOCK_EVENTS, type Stock } from "./stock.ts";

export const stockSpec: EntityStepSpec<Stock> = {
  ...stepBasics("parts.stock", "parts"),
  handles: STOCK_EVENTS,
  entityOf: (event) => (event.data as { partType: string }).partType,
  handle: applyToStock,
};

export const stockStep = defineEntityStep(stockSpec);
export const main = stockStep.main;
