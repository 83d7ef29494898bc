// Action: technicians per site; assigns a crew once a part is reserved, releases it when the order is cancelled.
import { defineEntityStep } from "../../lib/step/define.ts";
import type { EntityStepSpec } from "../../lib/step/spec.ts";
import { stepBasics } from "../steps.ts";
import { applyToRoster, type Roster } from "./roster.ts";

export const rosterSpec: EntityStepSpec<Roster> = {
  ...stepBasics("crews.roster", "crews"),
  handles: ["part.reserved", "workorder.cancelled"],
  entityOf: (event) => (event.data as { site: string }).site,
  handle: applyToRoster,
};

export const rosterStep = defineEntityStep(rosterSpec);
export const main = rosterStep.main;
