// The work order and the saga it owns, event-sourced: the state is a replay of what happened to the work order
// (the inputs it received and the events it emitted). Pure decisions.
//
//   maintenance.requested -> workorder.opened (deadline = now + workorder_deadline_ms)
//   part.reserved         -> (waits for a crew)          part.unavailable  -> workorder.cancelled (no-part)
//   crew.assigned         -> workorder.scheduled         crew.unavailable  -> workorder.cancelled (no-crew)
//   workorder.deadline.passed  -> workorder.cancelled (deadline), unless already terminal
//   workorder.cancel.requested -> workorder.cancelled (operator), unless already terminal
// Parts and crews release what they reserved when they see workorder.cancelled (the compensation).
import type { CloudEvent } from "../../lib/events/envelope.ts";
import type { Emit, HandlerContext } from "../../lib/step/spec.ts";
import { configCount } from "../steps.ts";

export type WorkOrderStatus = "requested" | "open" | "part-reserved" | "scheduled" | "cancelled";

export interface WorkOrder {
  workOrderId: string;
  incidentId: string;
  assetId: string;
  site: string;
  partType: string;
  skill: string;
  status: WorkOrderStatus;
  deadline?: string;
  crewId?: string;
  day?: string;
  cancelReason?: string;
}

export const DEFAULT_DEADLINE_MS = 10 * 60_000;
export const workOrderIdFor = (incidentId: string) => `wo-${incidentId}`;
export const isTerminal = (order: WorkOrder | undefined) =>
  order?.status === "scheduled" || order?.status === "cancelled";

/** The work order an event belongs to. */
export function workOrderOf(event: CloudEvent<string, unknown>): string {
  const data = event.data as { workOrderId?: string; incidentId?: string };
  if (event.type === "maintenance.requested" && data.incidentId) return workOrderIdFor(data.incidentId);
  return data.workOrderId ?? "";
}

export function evolve(order: WorkOrder | undefined, event: CloudEvent<string, unknown>): WorkOrder {
  const data = event.data as Record<string, string>;
  if (event.type === "maintenance.requested") {
    return (
      order ?? {
        workOrderId: workOrderIdFor(data.incidentId ?? ""),
        incidentId: data.incidentId ?? "",
        assetId: data.assetId ?? "",
        site: data.site ?? "",
        partType: data.partType ?? "",
        skill: data.skill ?? "",
        status: "requested",
      }
    );
  }
  if (!order) throw new Error(`${event.type} for work order ${workOrderOf(event)}, which was never requested`);
  switch (event.type) {
    case "workorder.opened":
      return { ...order, status: "open", deadline: data.deadline };
    case "part.reserved":
      return isTerminal(order) ? order : { ...order, status: "part-reserved" };
    case "crew.assigned":
      return isTerminal(order) ? order : { ...order, crewId: data.crewId, day: data.day };
    case "workorder.scheduled":
      return { ...order, status: "scheduled", crewId: data.crewId, day: data.day };
    case "workorder.cancelled":
      return { ...order, status: "cancelled", cancelReason: data.reason };
    default:
      return order;
  }
}

function cancel(order: WorkOrder, reason: string, detail: string): Emit[] {
  const data = { workOrderId: order.workOrderId, site: order.site, partType: order.partType, reason, detail };
  return [{ type: "workorder.cancelled", subject: order.workOrderId, data }];
}

export function decide(
  input: CloudEvent<string, unknown>,
  order: WorkOrder | undefined,
  context: HandlerContext,
): Emit[] {
  const data = input.data as Record<string, string>;
  if (input.type === "maintenance.requested") {
    if (order) return []; // the same incident requested again: one work order per incident
    const opened = evolve(undefined, input);
    const deadlineMs = configCount(context.config, "workorder_deadline_ms", DEFAULT_DEADLINE_MS, 1);
    const deadline = new Date(context.now + deadlineMs);
    const { workOrderId, incidentId, assetId, site, partType, skill } = opened;
    return [
      {
        type: "workorder.opened",
        subject: workOrderId,
        data: { workOrderId, incidentId, assetId, site, partType, skill, deadline: deadline.toISOString() },
      },
    ];
  }
  if (!order) throw new Error(`${input.type} for work order ${workOrderOf(input)}, which was never requested`);
  if (isTerminal(order)) return []; // late news for a finished order: parts and crews compensate on their own
  switch (input.type) {
    case "part.unavailable":
      return cancel(order, "no-part", `no ${order.partType} in stock`);
    case "crew.unavailable":
      return cancel(order, "no-crew", `no ${order.skill} technician at ${order.site} before the deadline`);
    case "crew.assigned":
      return [
        {
          type: "workorder.scheduled",
          subject: order.workOrderId,
          data: { workOrderId: order.workOrderId, partType: order.partType, crewId: data.crewId, day: data.day },
        },
      ];
    case "workorder.deadline.passed":
      return cancel(order, "deadline", `not scheduled by ${order.deadline}`);
    case "workorder.cancel.requested":
      return cancel(order, "operator", `${data.requestedBy}: ${data.reason}`);
    default:
      return [];
  }
}

/** Stored on each commit, so the deadline alarm can find open work orders past their deadline. */
export function project(order: WorkOrder): Record<string, unknown> {
  return { status: order.status, open: !isTerminal(order), deadline: order.deadline };
}
