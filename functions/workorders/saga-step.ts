// Action: the work-order saga, event-sourced in the workorders database.
import { defineStreamStep } from "../../lib/step/define.ts";
import type { StreamStepSpec } from "../../lib/step/spec.ts";
import { stepBasics } from "../steps.ts";
import { decide, evolve, project, type WorkOrder, workOrderOf } from "./saga.ts";

export const sagaSpec: StreamStepSpec<WorkOrder> = {
  ...stepBasics("workorders.saga", "workorders"),
  handles: [
    "maintenance.requested",
    "part.reserved",
    "part.unavailable",
    "crew.assigned",
    "crew.unavailable",
    "workorder.deadline.passed",
    "workorder.cancel.requested",
  ],
  streamOf: workOrderOf,
  evolve,
  decide,
  project,
};

export const sagaStep = defineStreamStep(sagaSpec);
export const main = sagaStep.main;
