// Action: the work-order saga, event-sourced in the workorders database.
import { defineStreamStep } from "../../lib/step/index.ts";
import { type SagaStreamStep, stepBasics } from "../steps.ts";
import { decide, evolve, project, type WorkOrder, workOrderOf } from "./saga.ts";

export const sagaSpec: SagaStreamStep<"workorders.saga", WorkOrder> = {
  ...stepBasics("workorders.saga"),
  streamOf: workOrderOf,
  evolve,
  decide,
  project,
};

export const sagaStep = defineStreamStep(sagaSpec);
export const main = sagaStep.main;
