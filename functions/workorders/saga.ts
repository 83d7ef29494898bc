// The work order and the saga it owns, event-sourced: the state is a replay of what happened to the work order
// (the inputs it received and the events it emitted). Pure decisions.
//
//   maintenance.requested -> workorder.opened (deadline = now + workorder_deadline_ms)
//   part.reserved         -> (waits for a crew)          part.unavailable  -> workorder.cancelled (no-part)
//   crew.assigned         -> workorder.scheduled         crew.unavailable  -> workorder.cancelled (no-crew)
//   workorder.deadline.passed  -> workorder.cancelled (deadline), unless already terminal
//   workorder.cancel.requested -> workorder.cancelled (operator), unless already terminal
// Parts and crews release what they reserved when they see workorder.cancelled (the compensation); their
// part.released and crew.released come back to the work order, which records them (its timeline shows them).
import { SagaError } from "../../lib/errors.ts";
import type { HandlerContext } from "../../lib/step/index.ts";
import type { CANCEL_REASONS, SagaEmit, SagaEvent } from "../events.ts";
import { configCount, type StepEvent } from "../steps.ts";

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
  /** The compensations confirmed after a cancellation: what parts and crews released. */
  released?: ("part" | "crew")[];
}

/** News about a work order that was never requested: the step dead-letters it. */
export class NeverRequested extends SagaError {
  override name = "NeverRequested";
  constructor(event: SagaEvent) {
    super(`${event.type} for work order ${workOrderOf(event)}, which was never requested`);
  }
}

export const DEFAULT_DEADLINE_MS = 10 * 60_000;
export const workOrderIdFor = (incidentId: string) => `wo-${incidentId}`;
export const isTerminal = (order: WorkOrder | undefined) =>
  order?.status === "scheduled" || order?.status === "cancelled";

/** The work order an event belongs to. */
export function workOrderOf(event: SagaEvent): string {
  if (event.type === "maintenance.requested") return workOrderIdFor(event.data.incidentId);
  return "workOrderId" in event.data ? event.data.workOrderId : "";
}

/** Applies a stored event (an input of the saga or one it emitted) to the work order. */
export function evolve(order: WorkOrder | undefined, event: SagaEvent): WorkOrder {
  if (event.type === "maintenance.requested") {
    const { incidentId, assetId, site, partType, skill } = event.data;
    return (
      order ?? {
        workOrderId: workOrderIdFor(incidentId),
        incidentId,
        assetId,
        site,
        partType,
        skill,
        status: "requested",
      }
    );
  }
  if (!order) throw new NeverRequested(event);
  switch (event.type) {
    case "workorder.opened":
      return { ...order, status: "open", deadline: event.data.deadline };
    case "part.reserved":
      return isTerminal(order) ? order : { ...order, status: "part-reserved" };
    case "crew.assigned":
      return isTerminal(order) ? order : { ...order, crewId: event.data.crewId, day: event.data.day };
    case "workorder.scheduled":
      return { ...order, status: "scheduled", crewId: event.data.crewId, day: event.data.day };
    case "workorder.cancelled":
      return { ...order, status: "cancelled", cancelReason: event.data.reason };
    case "part.released":
      return { ...order, released: [...new Set([...(order.released ?? []), "part" as const])] };
    case "crew.released":
      return { ...order, released: [...new Set([...(order.released ?? []), "crew" as const])] };
    default:
      return order;
  }
}

function cancel(order: WorkOrder, reason: (typeof CANCEL_REASONS)[number], detail: string): SagaEmit[] {
  const data = { workOrderId: order.workOrderId, site: order.site, partType: order.partType, reason, detail };
  return [{ type: "workorder.cancelled", subject: order.workOrderId, data }];
}

export function decide(
  input: StepEvent<"workorders.saga">,
  order: WorkOrder | undefined,
  context: HandlerContext,
): SagaEmit[] {
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
  if (!order) throw new NeverRequested(input);
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
          data: {
            workOrderId: order.workOrderId,
            partType: order.partType,
            crewId: input.data.crewId,
            day: input.data.day,
          },
        },
      ];
    case "workorder.deadline.passed":
      return cancel(order, "deadline", `not scheduled by ${order.deadline}`);
    case "workorder.cancel.requested":
      return cancel(order, "operator", `${input.data.requestedBy}: ${input.data.reason}`);
    default:
      return [];
  }
}

/**
 * Stored on each commit: the deadline alarm finds open work orders past their deadline by it, and the dashboard
 * lists and filters work orders by it without replaying their streams.
 */
export function project(order: WorkOrder): Record<string, unknown> {
  const { status, deadline, assetId, site, partType, skill, crewId, day, cancelReason, released } = order;
  return {
    status,
    open: !isTerminal(order),
    deadline,
    assetId,
    site,
    partType,
    skill,
    crewId,
    day,
    cancelReason,
    released,
  };
}
