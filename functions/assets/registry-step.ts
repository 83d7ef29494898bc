// Action: keeps the pump registry (pump.assets) and each pump's latest readings (pump.metrics).
import { defineEntityStep } from "../../lib/step/index.ts";
import { type SagaEntityStep, stepBasics } from "../steps.ts";
import { applyToPump, type Pump } from "./registry.ts";

export const registrySpec: SagaEntityStep<"assets.registry", Pump> = {
  ...stepBasics("assets.registry"),
  handle: (event, pump) => applyToPump(event, pump),
};

export const registryStep = defineEntityStep(registrySpec);
export const main = registryStep.main;
