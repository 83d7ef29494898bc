// Action run by an alarm: the outbox relay over every service's database, with the coverage audit of every step.
import { defineOutboxRelay } from "../lib/step/index.ts";
import { DATABASES, SWEPT_STEPS } from "./topology.ts";

export const relay = defineOutboxRelay({ name: "saga.relay", databases: DATABASES, steps: SWEPT_STEPS });
export const main = relay.main;
