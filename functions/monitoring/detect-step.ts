// Action: watches each pump's readings and raises one maintenance request per incident.
import { defineEntityStep } from "../../lib/step/define.ts";
import type { EntityStepSpec } from "../../lib/step/spec.ts";
import { stepBasics } from "../steps.ts";
import { type Watch, watchPump } from "./detection.ts";

export const detectSpec: EntityStepSpec<Watch> = {
  ...stepBasics("monitoring.detect", "monitoring"),
  handles: ["pump.registered", "pump.metric.reported"],
  handle: (event, watch) => watchPump(event, watch),
};

export const detectStep = defineEntityStep(detectSpec);
export const main = detectStep.main;
