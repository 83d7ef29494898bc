// Technicians per site with a capacity per day: assigns one for a work order whose part is reserved, releases it
// when the order is cancelled. Pure decisions; like parts, remembers each work order's fate so that a
// cancellation that overtakes the request is not followed by an assignment.
import type { CloudEvent } from "../../lib/events/envelope.ts";
import type { Emit, HandlerContext } from "../../lib/step/spec.ts";
import { configNumber } from "../steps.ts";

export interface Technician {
  crewId: string;
  skills: string[];
  capacityPerDay: number;
}

export type Assignment =
  | { state: "assigned"; crewId: string; day: string }
  | { state: "released"; crewId: string; day: string }
  | { state: "unavailable" }
  | { state: "cancelled-before-request" };

export interface Roster {
  site: string;
  technicians: Technician[];
  /** crewId -> day -> work orders assigned and not released. Invariant: never above capacityPerDay. */
  load: Record<string, Record<string, number>>;
  assignments: Record<string, Assignment>;
}

const SKILLS = ["mechanical", "hydraulic", "electrical"];

/** Every site starts with one technician per skill and one who has them all (crews_capacity_per_day, default 2). */
export function initialRoster(site: string, context: HandlerContext): Roster {
  const capacityPerDay = configNumber(context.config, "crews_capacity_per_day", 2);
  const technicians = [
    ...SKILLS.map((skill) => ({ crewId: `${site}-${skill}`, skills: [skill], capacityPerDay })),
    { crewId: `${site}-allround`, skills: SKILLS, capacityPerDay },
  ];
  return { site, technicians, load: {}, assignments: {} };
}

const isoDay = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** The days (YYYY-MM-DD, UTC) from `from` to `until`, inclusive; at least the first. */
export function daysBetween(from: number, until: number): string[] {
  const days = [isoDay(from)];
  for (let t = from + 86_400_000; isoDay(t) <= isoDay(until); t += 86_400_000) days.push(isoDay(t));
  return days;
}

export function applyToRoster(
  event: CloudEvent<string, unknown>,
  roster: Roster | undefined,
  context: HandlerContext,
): { state: Roster; emit: Emit[] } {
  const data = event.data as { workOrderId: string; site: string; skill: string; deadline: string };
  const current = roster ?? initialRoster(data.site, context);
  const known = current.assignments[data.workOrderId];
  const withAssignment = (assignment: Assignment, load = current.load) => ({
    ...current,
    load,
    assignments: { ...current.assignments, [data.workOrderId]: assignment },
  });
  const subject = data.workOrderId;
  if (event.type === "part.reserved") {
    if (known) return { state: current, emit: [] };
    for (const day of daysBetween(context.now, Date.parse(data.deadline))) {
      const technician = current.technicians.find(
        (t) => t.skills.includes(data.skill) && (current.load[t.crewId]?.[day] ?? 0) < t.capacityPerDay,
      );
      if (!technician) continue;
      const { crewId } = technician;
      const load = {
        ...current.load,
        [crewId]: { ...current.load[crewId], [day]: (current.load[crewId]?.[day] ?? 0) + 1 },
      };
      return {
        state: withAssignment({ state: "assigned", crewId, day }, load),
        emit: [
          { type: "crew.assigned", subject, data: { workOrderId: data.workOrderId, crewId, site: current.site, day } },
        ],
      };
    }
    return {
      state: withAssignment({ state: "unavailable" }),
      emit: [
        {
          type: "crew.unavailable",
          subject,
          data: { workOrderId: data.workOrderId, site: current.site, skill: data.skill },
        },
      ],
    };
  }
  // workorder.cancelled: the compensation.
  if (known?.state === "assigned") {
    const { crewId, day } = known;
    const load = {
      ...current.load,
      [crewId]: { ...current.load[crewId], [day]: (current.load[crewId]?.[day] ?? 1) - 1 },
    };
    return {
      state: withAssignment({ state: "released", crewId, day }, load),
      emit: [{ type: "crew.released", subject, data: { workOrderId: data.workOrderId, crewId, day } }],
    };
  }
  if (!known) return { state: withAssignment({ state: "cancelled-before-request" }), emit: [] };
  return { state: current, emit: [] };
}
