// Action: spare-part stock; reserves for opened work orders and releases for cancelled ones.
import { defineEntityStep } from "../../lib/step/define.ts";
import { stepBasics } from "../steps.ts";
import { applyToStock, type Stock } from "./stock.ts";

export const stockStep = defineEntityStep<Stock>({
  ...stepBasics("parts.stock", "parts"),
  handles: ["workorder.opened", "workorder.cancelled"],
  entityOf: (event) => (event.data as { partType: string }).partType,
  handle: applyToStock,
});

export const main = stockStep.main;
