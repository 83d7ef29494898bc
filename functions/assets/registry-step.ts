// Action: keeps the pump registry (pump.assets) and each pump's latest readings (pump.metrics).
import { defineEntityStep } from "../../lib/step/index.ts";
import { entitySpec } from "../steps.ts";
import { applyToPump } from "./registry.ts";

export const registrySpec = entitySpec("assets.registry", { handle: applyToPump });
export const registryStep = defineEntityStep(registrySpec);
export const main = registryStep.main;
