// Action run by an alarm: finds open work orders past their deadline and sends the saga a
// workorder.deadline.passed command for each. The command's id is derived from the work order, so a scan that
// finds the same order again sends the same event and the saga applies it once.
import { rootEventId } from "../../lib/events/derived-id.ts";
import { clientsFor } from "../../lib/step/clients.ts";
import type { StreamCommitDoc } from "../../lib/step/documents.ts";
import { sendRecords } from "../../lib/step/outgoing.ts";
import { readStreams } from "../../lib/step/store-io.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { catalog } from "../events.ts";
import { DATABASE, TOPIC } from "../topology.ts";

/** Work orders not yet scheduled or cancelled, with their deadlines (the latest commit of each stream tells). */
export async function openWorkOrders(
  cloudant: Cloudant,
  deadlineBefore?: number,
): Promise<{ workOrderId: string; deadline?: string }[]> {
  const selector: Record<string, unknown> = { kind: "commit", "view.open": true };
  if (deadlineBefore !== undefined) selector["view.deadline"] = { $lt: new Date(deadlineBefore).toISOString() };
  const candidates = await cloudant.postFind({ db: DATABASE.workorders, selector, fields: ["stream"], limit: 1000 });
  const streams = [...new Set(candidates.result.docs.map((doc) => String(doc.stream)))];
  // An older commit may still say "open": only the stream's latest commit tells.
  const commits = await readStreams(cloudant, DATABASE.workorders, streams);
  return [...commits.values()].flatMap((history: StreamCommitDoc[]) => {
    const latest = history.at(-1);
    const view = latest?.view as { open?: boolean; deadline?: string } | undefined;
    return latest && view?.open ? [{ workOrderId: latest.stream, deadline: view.deadline }] : [];
  });
}

export async function overdueWorkOrders(
  cloudant: Cloudant,
  now: number,
): Promise<{ workOrderId: string; deadline: string }[]> {
  const open = await openWorkOrders(cloudant, now);
  return open.flatMap((o) =>
    o.deadline && Date.parse(o.deadline) < now ? [{ workOrderId: o.workOrderId, deadline: o.deadline }] : [],
  );
}

export async function main(params: Record<string, unknown>) {
  try {
    const { cloudant, producer } = clientsFor(params, "workorders.deadlines");
    const now = Date.now();
    const overdue = await overdueWorkOrders(cloudant, now);
    const events = overdue.map(({ workOrderId, deadline }) =>
      catalog.build("workorder.deadline.passed", {
        id: rootEventId(`deadline:${workOrderId}`),
        source: "/ow-saga/workorders/deadlines",
        subject: workOrderId,
        sagaid: workOrderId.replace(/^wo-/, ""),
        time: new Date(now).toISOString(),
        data: { workOrderId, deadline },
      }),
    );
    await sendRecords(
      await producer(),
      events.map((event) => ({ topic: TOPIC.commands, key: event.subject, value: JSON.stringify(event) })),
      10_000,
    );
    return { overdue: overdue.map((o) => o.workOrderId) };
  } catch (err) {
    return { error: { action: "workorders.deadlines", message: err instanceof Error ? err.message : String(err) } };
  }
}
