// Action: the work-order saga, event-sourced in the workorders database.
import { defineStreamStep } from "../../lib/step/index.ts";
import { streamSpec } from "../steps.ts";
import { decide, evolve, project, workOrderOf } from "./saga.ts";

export const sagaSpec = streamSpec("workorders.saga", { streamOf: workOrderOf, evolve, decide, project });
export const sagaStep = defineStreamStep(sagaSpec);
export const main = sagaStep.main;
