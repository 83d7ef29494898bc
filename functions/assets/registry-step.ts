// Action: keeps the pump registry (pump.assets) and each pump's latest readings (pump.metrics).
import { defineEntityStep } from "../../lib/step/define.ts";
import type { EntityStepSpec } from "../../lib/step/spec.ts";
import { stepBasics } from "../steps.ts";
import { applyToPump, type Pump } from "./registry.ts";

export const registrySpec: EntityStepSpec<Pump> = {
  ...stepBasics("assets.registry", "assets"),
  handles: ["pump.registered", "pump.metric.reported"],
  handle: (event, pump) => applyToPump(event, pump),
};

export const registryStep = defineEntityStep(registrySpec);
export const main = registryStep.main;
