// Action run by an alarm: finds open work orders past their deadline and sends the saga a
// workorder.deadline.passed command for each. The command is a function of the work order and its deadline (id
// and time alike), so a scan that finds the same order again sends the same event, byte for byte, and the saga
// applies it once.
import type { Producer } from "kafkajs";
import { describeError } from "../../lib/errors.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { findStreamHeads, readStreams, type StreamCommitDoc } from "../../lib/step/index.ts";
import { clientsFor, eventRecords, retireHeads, sendWithinDeadline } from "../../lib/step/tools.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { catalog } from "../events.ts";
import { DATABASE, TOPIC } from "../topology.ts";

/** Heads read per query, and queries per scan: what one scan can see is 5,000 open work orders past due. */
const PAGE = 1_000;
const PAGES = 5;

export interface OpenWorkOrder {
  workOrderId: string;
  deadline?: string;
}

/**
 * Work orders not yet scheduled or cancelled (optionally only those due before a time), from the streams' heads:
 * the cost follows what is open, not what ever was. Each candidate is checked against its stream's latest commit,
 * and a head that a crash left behind is retired on the way.
 */
export async function openWorkOrders(
  cloudant: Cloudant,
  deadlineBefore?: number,
  database: string = DATABASE.workorders,
): Promise<OpenWorkOrder[]> {
  const selector: Record<string, unknown> = { "view.open": true };
  if (deadlineBefore !== undefined) selector["view.deadline"] = { $lt: new Date(deadlineBefore).toISOString() };
  const heads: StreamCommitDoc[] = [];
  for (let page = 0; page < PAGES; page += 1) {
    const found = await findStreamHeads(cloudant, database, selector, PAGE, page * PAGE);
    heads.push(...found);
    if (found.length < PAGE) break;
  }
  const streams = await readStreams(cloudant, database, [...new Set(heads.map((head) => head.stream))]);
  const latest = (stream: string) => streams.get(stream)?.at(-1);
  await retireHeads(
    cloudant,
    database,
    heads.filter((head) => head.seq !== latest(head.stream)?.seq),
  ).catch(() => 0);
  return [...streams.values()].flatMap((history) => {
    const last = history.at(-1);
    const view = last?.view as { open?: boolean; deadline?: string } | undefined;
    return last && view?.open ? [{ workOrderId: last.stream, deadline: view.deadline }] : [];
  });
}

export async function overdueWorkOrders(
  cloudant: Cloudant,
  now: number,
  database: string = DATABASE.workorders,
): Promise<{ workOrderId: string; deadline: string }[]> {
  const open = await openWorkOrders(cloudant, now, database);
  return open.flatMap((o) =>
    o.deadline && Date.parse(o.deadline) < now ? [{ workOrderId: o.workOrderId, deadline: o.deadline }] : [],
  );
}

/** The command for a work order whose deadline passed: the same order and deadline always give the same event. */
export function deadlinePassed(workOrderId: string, deadline: string) {
  return catalog.build("workorder.deadline.passed", {
    id: rootEventId(`deadline:${workOrderId}`),
    source: "/ow-saga/workorders/deadlines",
    subject: workOrderId,
    sagaid: workOrderId.replace(/^wo-/, ""),
    time: deadline,
    data: { workOrderId, deadline },
  });
}

export interface DeadlineTargets {
  database: string;
  topic: string;
}

/** One scan: the overdue work orders, and their commands sent (retried within the deadline while Kafka is away). */
export async function sendOverdue(
  clients: { cloudant: Cloudant; producer: () => Promise<Producer> },
  now: number,
  deadline: number,
  targets: DeadlineTargets = { database: DATABASE.workorders, topic: TOPIC.commands },
): Promise<string[]> {
  const overdue = await overdueWorkOrders(clients.cloudant, now, targets.database);
  const events = overdue.map(({ workOrderId, deadline: due }) => deadlinePassed(workOrderId, due));
  await sendWithinDeadline(clients.producer, eventRecords(targets.topic, events), { at: deadline, reserveMs: 2_000 });
  return overdue.map((o) => o.workOrderId);
}

export async function main(params: Record<string, unknown>) {
  try {
    const clients = clientsFor(params);
    const now = Date.now();
    const deadline = Number(process.env.__OW_DEADLINE ?? now + 60_000);
    const overdue = await sendOverdue(clients, now, deadline);
    console.log(JSON.stringify({ action: "workorders.deadlines", overdue: overdue.length }));
    return { overdue };
  } catch (err) {
    return { error: { action: "workorders.deadlines", message: describeError(err) } };
  }
}
