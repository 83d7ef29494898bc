// Action: watches each pump's readings and raises one maintenance request per incident.
import { defineEntityStep } from "../../lib/step/index.ts";
import { entitySpec } from "../steps.ts";
import { watchPump } from "./detection.ts";

export const detectSpec = entitySpec("monitoring.detect", { handle: watchPump });
export const detectStep = defineEntityStep(detectSpec);
export const main = detectStep.main;
