// The pump registry: each pump's registration, its latest reading and a bounded history of readings (what the
// dashboard plots). Pure decisions.
import type { Decision } from "../../lib/step/index.ts";
import type { Reading, SagaEmit } from "../events.ts";
import type { StepEvent } from "../steps.ts";

/** Readings kept per pump: the newest by timestamp. About 6 KB, so a pump's document stays small forever. */
export const HISTORY = 48;

export interface Pump {
  assetId: string;
  /** Absent until the registration arrives (readings may come first: topics are not ordered together). */
  registration?: Record<string, unknown>;
  latest?: Reading;
  /** The newest readings, oldest first (sorted by timestamp: batches may deliver them out of order). */
  history: Reading[];
  readings: number;
}

export function applyToPump(event: StepEvent<"assets.registry">, pump: Pump | undefined): Decision<Pump, SagaEmit> {
  const known = pump ?? { assetId: event.subject, readings: 0, history: [] };
  // Documents written before histories were kept have none.
  const current: Pump = { ...known, history: known.history ?? [] };
  if (event.type === "pump.registered") return { state: { ...current, registration: event.data } };
  const { assetId: _, ...reading } = event.data;
  const newer = !current.latest || reading.timestamp >= current.latest.timestamp;
  const history = [...current.history, reading].sort((a, b) => a.timestamp.localeCompare(b.timestamp)).slice(-HISTORY);
  return {
    state: { ...current, latest: newer ? reading : current.latest, history, readings: current.readings + 1 },
  };
}
