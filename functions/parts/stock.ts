// Spare-part stock per part type: reserves a part for an opened work order, releases it when the order is
// cancelled, counts it consumed when the order is scheduled, and adds deliveries. Pure decisions.
//
// A part type's document is shared by every work order that needs one, so it must not grow with them. It holds the
// live reservations (bounded by the stock) and the work orders parts is done with (`closed`), kept as long as the
// step remembers applied keys (7 days and the newest 1,000 by default): within that window a late or repeated event
// for a closed order changes nothing, and a cancellation that overtakes its opening (batches run concurrently)
// prevents the reservation.

import { ConfigError } from "../../lib/config/settings.ts";
import { type HandlerContext, type Memory, remembers } from "../../lib/step/index.ts";
import type { SagaEmit } from "../events.ts";
import { closeOrder, configCount, type EntityHandler, type StepEvent } from "../steps.ts";

export interface Stock {
  partType: string;
  /** Invariant: available + reserved work orders + consumed = atStart + restocked. */
  atStart: number;
  restocked: number;
  available: number;
  /** Parts used by scheduled work orders. */
  consumed: number;
  /** Work orders holding a part -> epoch ms of the reservation. */
  reserved: Record<string, number>;
  /** Work orders parts is done with (released, consumed, unavailable, or cancelled first), with when; oldest first. */
  closed: Memory;
  /** How work orders ended here, since the start. */
  tally: { released: number; unavailable: number; cancelledFirst: number };
}

export const DEFAULT_STOCK = 3;

/** The stock of a part type before any reservation: its entry in `stock_by_part_type`, else `stock_default`. */
export function initialStock(partType: string, context: HandlerContext): Stock {
  const atStart =
    stockByPartType(context.config)[partType] ?? configCount(context.config, "stock_default", DEFAULT_STOCK);
  const tally = { released: 0, unavailable: 0, cancelledFirst: 0 };
  return { partType, atStart, restocked: 0, available: atStart, consumed: 0, reserved: {}, closed: [], tally };
}

/** `stock_by_part_type`: `seal-kit=5,bearing=0`; anything else is a ConfigError naming the setting. */
export function stockByPartType(config: Readonly<Record<string, unknown>>): Record<string, number> {
  const name = "stock_by_part_type";
  const raw = config[name];
  if (raw === undefined || raw === null || raw === "") return {};
  if (typeof raw !== "string") throw new ConfigError(name, `expected type=count,type=count, got ${typeof raw}`);
  const stock: Record<string, number> = {};
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")) {
    const match = /^([a-z0-9][a-z0-9-]*)=(\d{1,9})$/.exec(entry);
    if (!match) throw new ConfigError(name, `"${entry}" is not type=count (a part type, a whole number)`);
    stock[match[1] as string] = Number(match[2]);
  }
  return stock;
}

function decideStock(
  event: StepEvent<"parts.stock">,
  stock: Stock,
  context: HandlerContext,
): { state: Stock; emit: SagaEmit[] } {
  const { now } = context;
  if (event.type === "parts.restocked") {
    const { quantity } = event.data;
    return {
      state: { ...stock, available: stock.available + quantity, restocked: stock.restocked + quantity },
      emit: [],
    };
  }
  const { workOrderId, partType } = event.data;
  const subject = workOrderId;
  const holds = stock.reserved[workOrderId] !== undefined;
  const close = (next: Partial<Stock>): Stock => {
    const { held: reserved, closed } = closeOrder(stock.reserved, stock.closed, workOrderId, context);
    return { ...stock, ...next, reserved, closed };
  };
  if (!holds && remembers(stock.closed, workOrderId)) return { state: stock, emit: [] };
  if (event.type === "workorder.opened") {
    if (holds) return { state: stock, emit: [] };
    if (stock.available === 0) {
      return {
        state: close({ tally: { ...stock.tally, unavailable: stock.tally.unavailable + 1 } }),
        emit: [{ type: "part.unavailable", subject, data: { workOrderId, partType } }],
      };
    }
    const { site, skill, deadline } = event.data;
    return {
      state: { ...stock, available: stock.available - 1, reserved: { ...stock.reserved, [workOrderId]: now } },
      emit: [{ type: "part.reserved", subject, data: { workOrderId, partType, site, skill, deadline } }],
    };
  }
  if (event.type === "workorder.scheduled") {
    // The part is used: it leaves the stock for good. Scheduled without a reservation here cannot happen; remember it.
    return { state: holds ? close({ consumed: stock.consumed + 1 }) : close({}), emit: [] };
  }
  // workorder.cancelled: the compensation.
  if (holds) {
    return {
      state: close({ available: stock.available + 1, tally: { ...stock.tally, released: stock.tally.released + 1 } }),
      emit: [{ type: "part.released", subject, data: { workOrderId, partType } }],
    };
  }
  return { state: close({ tally: { ...stock.tally, cancelledFirst: stock.tally.cancelledFirst + 1 } }), emit: [] };
}

export const applyToStock: EntityHandler<"parts.stock", Stock> = (event, stock, context) =>
  decideStock(event, stock ?? initialStock(event.data.partType, context), context);

/** Reserved work orders, for the invariant: available + reserved + consumed = atStart + restocked. */
export const reservedCount = (stock: Stock) => Object.keys(stock.reserved).length;
