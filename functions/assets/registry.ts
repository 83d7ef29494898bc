// The pump registry: each pump's registration and its latest readings. Pure decisions.
import type { Decision } from "../../lib/step/index.ts";
import type { Reading, SagaEmit } from "../events.ts";
import type { StepEvent } from "../steps.ts";

export interface Pump {
  assetId: string;
  /** Absent until the registration arrives (readings may come first: topics are not ordered together). */
  registration?: Record<string, unknown>;
  latest?: Reading;
  readings: number;
}

export function applyToPump(event: StepEvent<"assets.registry">, pump: Pump | undefined): Decision<Pump, SagaEmit> {
  const current: Pump = pump ?? { assetId: event.subject, readings: 0 };
  if (event.type === "pump.registered") return { state: { ...current, registration: event.data } };
  const { assetId: _, ...reading } = event.data;
  // Readings can arrive out of order across batches: the latest is the one with the latest timestamp.
  const newer = !current.latest || reading.timestamp >= current.latest.timestamp;
  return { state: { ...current, latest: newer ? reading : current.latest, readings: current.readings + 1 } };
}
