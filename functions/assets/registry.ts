// The pump registry: each pump's registration and its latest readings. Pure decisions.
import type { CloudEvent } from "../../lib/events/envelope.ts";
import type { Decision } from "../../lib/step/spec.ts";
import type { Reading } from "../events.ts";

export interface Pump {
  assetId: string;
  /** Absent until the registration arrives (readings may come first: topics are not ordered together). */
  registration?: Record<string, unknown>;
  latest?: Reading;
  readings: number;
}

export function applyToPump(event: CloudEvent<string, unknown>, pump: Pump | undefined): Decision<Pump> {
  const current: Pump = pump ?? { assetId: event.subject, readings: 0 };
  if (event.type === "pump.registered")
    return { state: { ...current, registration: event.data as Record<string, unknown> } };
  const { assetId: _, ...reading } = event.data as Reading & { assetId: string };
  // Readings can arrive out of order across batches: the latest is the one with the latest timestamp.
  const newer = !current.latest || reading.timestamp >= current.latest.timestamp;
  return { state: { ...current, latest: newer ? reading : current.latest, readings: current.readings + 1 } };
}
