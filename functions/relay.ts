// Action run by an alarm: the outbox relay over every service's database.
import { defineOutboxRelay } from "../lib/step/relay.ts";
import { DATABASES } from "./topology.ts";

export const relay = defineOutboxRelay({ name: "saga.relay", databases: DATABASES });
export const main = relay.main;
