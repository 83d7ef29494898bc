// Spare-part stock per part type: reserves a part for an opened work order, releases it when the order is
// cancelled. Pure decisions. A cancellation may arrive before the opening (batches run concurrently), so each
// work order's fate is remembered: a cancelled order is never reserved for afterwards.
import type { CloudEvent } from "../../lib/events/envelope.ts";
import type { Emit, HandlerContext } from "../../lib/step/spec.ts";
import { configNumber } from "../steps.ts";

export type Reservation = "reserved" | "released" | "unavailable" | "cancelled-before-opening";

export interface Stock {
  partType: string;
  /** Invariant: available + (reservations in state "reserved") = atStart. */
  atStart: number;
  available: number;
  reservations: Record<string, Reservation>;
}

export const DEFAULT_STOCK = 3;

/** The stock of a part type before any reservation: `stock_<partType>` bound to the action, else `stock_default`. */
export function initialStock(partType: string, context: HandlerContext): Stock {
  const atStart = configNumber(
    context.config,
    `stock_${partType}`,
    configNumber(context.config, "stock_default", DEFAULT_STOCK),
  );
  return { partType, atStart, available: atStart, reservations: {} };
}

export function applyToStock(
  event: CloudEvent<string, unknown>,
  stock: Stock | undefined,
  context: HandlerContext,
): { state: Stock; emit: Emit[] } {
  const data = event.data as { workOrderId: string; partType: string; site: string; skill: string; deadline: string };
  const current = stock ?? initialStock(data.partType, context);
  const known = current.reservations[data.workOrderId];
  const note = (reservation: Reservation, available = current.available) => ({
    ...current,
    available,
    reservations: { ...current.reservations, [data.workOrderId]: reservation },
  });
  const key = { subject: data.workOrderId };
  if (event.type === "workorder.opened") {
    if (known) return { state: current, emit: [] };
    if (current.available === 0) {
      return {
        state: note("unavailable"),
        emit: [{ type: "part.unavailable", ...key, data: { workOrderId: data.workOrderId, partType: data.partType } }],
      };
    }
    const { workOrderId, partType, site, skill, deadline } = data;
    return {
      state: note("reserved", current.available - 1),
      emit: [{ type: "part.reserved", ...key, data: { workOrderId, partType, site, skill, deadline } }],
    };
  }
  // workorder.cancelled: the compensation.
  if (known === "reserved") {
    return {
      state: note("released", current.available + 1),
      emit: [{ type: "part.released", ...key, data: { workOrderId: data.workOrderId, partType: data.partType } }],
    };
  }
  if (!known) return { state: note("cancelled-before-opening"), emit: [] };
  return { state: current, emit: [] };
}
