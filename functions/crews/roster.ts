// Technicians per site with a capacity per day: assigns one for a work order whose part is reserved, releases it
// when the order is cancelled. Pure decisions.
//
// A site's document is shared by every work order there, so it must not grow with them. It holds the load and the
// assignments of today and later days only (a past day's work is done), and the work orders crews is done with
// (`closed`), kept as long as the step remembers applied keys (7 days and the newest 1,000 by default): within that
// window a late or repeated event for a closed order changes nothing, and a cancellation that overtakes the request
// prevents the assignment.
import { type HandlerContext, type Memory, remember, remembers } from "../../lib/step/index.ts";
import type { SagaEmit } from "../events.ts";
import { closeOrder, configCount, type EntityHandler, type StepEvent } from "../steps.ts";

export interface Technician {
  crewId: string;
  skills: string[];
  capacityPerDay: number;
}

export interface Assignment {
  crewId: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
}

export interface Roster {
  site: string;
  technicians: Technician[];
  /** crewId -> day -> work orders assigned that day, today and later. Invariant: never above capacityPerDay. */
  load: Record<string, Record<string, number>>;
  /** Work orders with a technician, today and later. */
  assigned: Record<string, Assignment>;
  /** Work orders crews is done with (released, unavailable, cancelled first, or their day passed), with when. */
  closed: Memory;
  /** How work orders ended here, since the start. */
  tally: { assigned: number; released: number; unavailable: number; cancelledFirst: number };
}

const SKILLS = ["mechanical", "hydraulic", "electrical"];

/** Every site starts with one technician per skill and one who has them all (crews_capacity_per_day, default 2). */
export function initialRoster(site: string, context: HandlerContext): Roster {
  const capacityPerDay = configCount(context.config, "crews_capacity_per_day", 2);
  const technicians = [
    ...SKILLS.map((skill) => ({ crewId: `${site}-${skill}`, skills: [skill], capacityPerDay })),
    { crewId: `${site}-allround`, skills: SKILLS, capacityPerDay },
  ];
  const tally = { assigned: 0, released: 0, unavailable: 0, cancelledFirst: 0 };
  return { site, technicians, load: {}, assigned: {}, closed: [], tally };
}

const isoDay = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** The days (YYYY-MM-DD, UTC) from `from` to `until`, inclusive; at least the first. */
export function daysBetween(from: number, until: number): string[] {
  const days = [isoDay(from)];
  for (let t = from + 86_400_000; isoDay(t) <= isoDay(until); t += 86_400_000) days.push(isoDay(t));
  return days;
}

/** Yesterday's work and older is done: its load goes, and its work orders are closed. */
function withoutPastDays(roster: Roster, { now, retention }: HandlerContext): Roster {
  const today = isoDay(now);
  const done = Object.entries(roster.assigned).filter(([, a]) => a.day < today);
  const pastDays = Object.values(roster.load).some((days) => Object.keys(days).some((day) => day < today));
  if (done.length === 0 && !pastDays) return roster;
  const load = Object.fromEntries(
    Object.entries(roster.load).map(([crewId, days]) => [
      crewId,
      Object.fromEntries(Object.entries(days).filter(([day]) => day >= today)),
    ]),
  );
  const assigned = Object.fromEntries(Object.entries(roster.assigned).filter(([, a]) => a.day >= today));
  const closed = done.reduce((memory, [workOrderId]) => remember(memory, workOrderId, now, retention), roster.closed);
  return { ...roster, load, assigned, closed };
}

function withLoad(roster: Roster, { crewId, day }: Assignment, change: 1 | -1): Roster["load"] {
  return { ...roster.load, [crewId]: { ...roster.load[crewId], [day]: (roster.load[crewId]?.[day] ?? 0) + change } };
}

function decideRoster(
  event: StepEvent<"crews.roster">,
  roster: Roster,
  context: HandlerContext,
): { state: Roster; emit: SagaEmit[] } {
  const { now } = context;
  const { workOrderId } = event.data;
  const subject = workOrderId;
  const known = roster.assigned[workOrderId];
  const close = (next: Partial<Roster>): Roster => {
    const { held: assigned, closed } = closeOrder(roster.assigned, roster.closed, workOrderId, context);
    return { ...roster, ...next, assigned, closed };
  };
  if (!known && remembers(roster.closed, workOrderId)) return { state: roster, emit: [] };
  if (event.type === "part.reserved") {
    if (known) return { state: roster, emit: [] };
    const { deadline, skill } = event.data;
    for (const day of daysBetween(now, Date.parse(deadline))) {
      const technician = roster.technicians.find(
        (t) => t.skills.includes(skill) && (roster.load[t.crewId]?.[day] ?? 0) < t.capacityPerDay,
      );
      if (!technician) continue;
      const assignment = { crewId: technician.crewId, day };
      return {
        state: {
          ...roster,
          load: withLoad(roster, assignment, 1),
          assigned: { ...roster.assigned, [workOrderId]: assignment },
          tally: { ...roster.tally, assigned: roster.tally.assigned + 1 },
        },
        emit: [{ type: "crew.assigned", subject, data: { workOrderId, ...assignment, site: roster.site } }],
      };
    }
    return {
      state: close({ tally: { ...roster.tally, unavailable: roster.tally.unavailable + 1 } }),
      emit: [{ type: "crew.unavailable", subject, data: { workOrderId, site: roster.site, skill } }],
    };
  }
  // workorder.cancelled: the compensation.
  if (known) {
    return {
      state: close({
        load: withLoad(roster, known, -1),
        tally: { ...roster.tally, released: roster.tally.released + 1 },
      }),
      emit: [{ type: "crew.released", subject, data: { workOrderId, ...known } }],
    };
  }
  return { state: close({ tally: { ...roster.tally, cancelledFirst: roster.tally.cancelledFirst + 1 } }), emit: [] };
}

export const applyToRoster: EntityHandler<"crews.roster", Roster> = (event, roster, context) =>
  decideRoster(event, withoutPastDays(roster ?? initialRoster(event.data.site, context), context), context);
