// Web action: GET ?id=wo-... -> the work order's state and its timeline, oldest first.

import { readStreams, replay, type StreamCommitDoc } from "../../lib/step/reads.ts";
import { DATABASE } from "../topology.ts";
import { answering, json, storeFor } from "../web.ts";
import { evolve } from "./saga.ts";

export interface TimelineEntry {
  id: string;
  type: string;
  source: string;
  time: string;
  /** The event that caused this one (absent for an event from outside). */
  causationid?: string;
  /** The activation that emitted it (absent for an event from outside the platform). */
  activationid?: string;
  /** Whether the work order received it or emitted it. */
  role: "received" | "emitted";
  data: unknown;
}

/** Every event of a work order in the order it was applied: each input, then what the saga emitted for it. */
export function timelineOf(commits: StreamCommitDoc[]): TimelineEntry[] {
  return commits.flatMap((commit) =>
    commit.entries.flatMap((entry) =>
      [
        { event: entry.input, role: "received" as const },
        ...entry.emitted.map((event) => ({ event, role: "emitted" as const })),
      ].map(({ event, role }) => ({
        id: event.id,
        type: event.type,
        source: event.source,
        time: event.time,
        ...(event.causationid ? { causationid: event.causationid } : {}),
        ...(event.activationid ? { activationid: event.activationid } : {}),
        role,
        data: event.data,
      })),
    ),
  );
}

export async function readWorkOrder(params: Record<string, unknown>, id: string) {
  const commits = (await readStreams(storeFor(params), DATABASE.workorders, [id])).get(id) ?? [];
  return commits.length === 0 ? undefined : { workOrder: replay(evolve, commits).state, timeline: timelineOf(commits) };
}

export async function main(params: Record<string, unknown>) {
  return answering(async () => {
    const id = typeof params.id === "string" ? params.id : "";
    if (!id) return json(400, { error: "give the work order's id: ?id=wo-..." });
    const found = await readWorkOrder(params, id);
    return found ? json(200, found) : json(404, { error: `no work order ${id}` });
  });
}
