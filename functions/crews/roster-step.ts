// Action: technicians per site; assigns a crew once a part is reserved, releases it when the order is cancelled.
import { defineEntityStep } from "../../lib/step/index.ts";
import { entitySpec } from "../steps.ts";
import { applyToRoster } from "./roster.ts";

export const rosterSpec = entitySpec("crews.roster", { entityOf: (event) => event.data.site, handle: applyToRoster });
export const rosterStep = defineEntityStep(rosterSpec);
export const main = rosterStep.main;
