// Per-pump detection over a window of readings. Pure: the rules, the incident's life, and the one maintenance
// request per incident.
//
// Rules, each over the last 3 readings (all 3 must agree, so one odd reading raises nothing), against the pump's
// nominal values from its registration:
//   overheating    temperature above 1.25 x nominal
//   pressure-drop  pressure and flow rate below 0.6 x nominal
//   overcurrent    current above 1.5 x nominal while rotation is normal (over 0.5 x nominal)
//   stalled        rotation below 0.1 x nominal
//   cavitation     pressure swinging: spread (max - min) over the whole window above 0.5 x nominal
// An incident stays open until 5 readings in a row match no rule; only then can a new incident open.
import type { PROBLEMS, Reading, SagaEmit, SensorValues } from "../events.ts";
import type { StepEvent } from "../steps.ts";

export type Problem = (typeof PROBLEMS)[number];

export interface Watch {
  assetId: string;
  site?: string;
  nominal?: SensorValues;
  /** The newest readings, oldest first. */
  window: Reading[];
  incident?: { id: string; problem: Problem; openedAt: string; normalStreak: number };
  incidents: number;
  /** Readings applied: each exactly once, whatever the deliveries (the chaos suite counts them). */
  readings: number;
}

export const WINDOW = 8;
const AGREE = 3;
const CLEAR_AFTER = 5;

/** The part and the skill each problem calls for. */
export const REMEDY: Record<Problem, { partType: string; skill: string }> = {
  overheating: { partType: "cooling-fan", skill: "mechanical" },
  "pressure-drop": { partType: "seal-kit", skill: "hydraulic" },
  overcurrent: { partType: "motor-winding", skill: "electrical" },
  cavitation: { partType: "impeller", skill: "hydraulic" },
  stalled: { partType: "bearing", skill: "mechanical" },
};

export function diagnose(window: Reading[], nominal: SensorValues): Problem | undefined {
  if (window.length < AGREE) return undefined;
  const last = window.slice(-AGREE);
  const all = (test: (r: Reading) => boolean) => last.every(test);
  if (all((r) => r.rotation < 0.1 * nominal.rotation)) return "stalled";
  if (all((r) => r.temperature > 1.25 * nominal.temperature)) return "overheating";
  if (all((r) => r.current > 1.5 * nominal.current && r.rotation > 0.5 * nominal.rotation)) return "overcurrent";
  if (all((r) => r.pressure < 0.6 * nominal.pressure && r.flowRate < 0.6 * nominal.flowRate)) return "pressure-drop";
  const pressures = window.map((r) => r.pressure);
  if (window.length >= WINDOW / 2 && Math.max(...pressures) - Math.min(...pressures) > 0.5 * nominal.pressure) {
    return "cavitation";
  }
  return undefined;
}

function withReading(window: Reading[], reading: Reading): Reading[] {
  // Batches may deliver readings out of order: keep the window sorted by time.
  return [...window, reading].sort((a, b) => a.timestamp.localeCompare(b.timestamp)).slice(-WINDOW);
}

export function watchPump(
  event: StepEvent<"monitoring.detect">,
  watch: Watch | undefined,
): { state: Watch; emit: SagaEmit[] } {
  let state: Watch = watch ?? { assetId: event.subject, window: [], incidents: 0, readings: 0 };
  if (event.type === "pump.registered") {
    state = { ...state, site: event.data.site, nominal: event.data.nominal };
  } else {
    const { assetId: _, ...reading } = event.data;
    state = { ...state, window: withReading(state.window, reading), readings: state.readings + 1 };
  }
  if (!state.nominal || !state.site) return { state, emit: [] }; // readings before the registration: wait for it
  const problem = diagnose(state.window, state.nominal);
  if (state.incident) {
    const normalStreak = problem ? 0 : state.incident.normalStreak + 1;
    if (normalStreak >= CLEAR_AFTER) return { state: { ...state, incident: undefined }, emit: [] };
    return { state: { ...state, incident: { ...state.incident, normalStreak } }, emit: [] };
  }
  if (!problem) return { state, emit: [] };
  const incidents = state.incidents + 1;
  const incidentId = `${state.assetId}-incident-${incidents}`;
  const detectedAt = state.window.at(-1)?.timestamp ?? event.time;
  return {
    state: { ...state, incidents, incident: { id: incidentId, problem, openedAt: detectedAt, normalStreak: 0 } },
    emit: [
      {
        type: "maintenance.requested",
        subject: incidentId,
        sagaid: incidentId,
        data: {
          incidentId,
          assetId: state.assetId,
          site: state.site,
          problem,
          ...REMEDY[problem],
          requestedBy: "monitoring",
          detectedAt,
        },
      },
    ],
  };
}
