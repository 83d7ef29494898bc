// Action: watches each pump's readings and raises one maintenance request per incident.
import { defineEntityStep } from "../../lib/step/index.ts";
import { type SagaEntityStep, stepBasics } from "../steps.ts";
import { type Watch, watchPump } from "./detection.ts";

export const detectSpec: SagaEntityStep<"monitoring.detect", Watch> = {
  ...stepBasics("monitoring.detect"),
  handle: (event, watch) => watchPump(event, watch),
};

export const detectStep = defineEntityStep(detectSpec);
export const main = detectStep.main;
