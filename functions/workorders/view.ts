// Web action: GET ?id=wo-... -> the work order's state and its full event history, oldest first.

import { readStreams, replay } from "../../lib/step/index.ts";
import { DATABASE } from "../topology.ts";
import { answering, json, storeFor } from "../web.ts";
import { evolve } from "./saga.ts";

export async function main(params: Record<string, unknown>) {
  return answering(async () => {
    const id = typeof params.id === "string" ? params.id : "";
    if (!id) return json(400, { error: "give the work order's id: ?id=wo-..." });
    const commits = (await readStreams(storeFor(params), DATABASE.workorders, [id])).get(id) ?? [];
    if (commits.length === 0) return json(404, { error: `no work order ${id}` });
    const history = commits.flatMap((commit) =>
      commit.entries
        .flatMap((entry) => [entry.input, ...entry.emitted])
        .map(({ id: eventId, type, source, time, data }) => ({
          id: eventId,
          type,
          source,
          time,
          data,
        })),
    );
    return json(200, { workOrder: replay(evolve, commits).state, history });
  });
}
