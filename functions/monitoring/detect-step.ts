// Action: watches each pump's readings and raises one maintenance request per incident.
import { defineEntityStep } from "../../lib/step/define.ts";
import { stepBasics } from "../steps.ts";
import { type Watch, watchPump } from "./detection.ts";

export const detectStep = defineEntityStep<Watch>({
  ...stepBasics("monitoring.detect", "monitoring"),
  handles: ["pump.registered", "pump.metric.reported"],
  handle: (event, watch) => watchPump(event, watch),
});

export const main = detectStep.main;
