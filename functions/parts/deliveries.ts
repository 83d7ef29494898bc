// Action run by an alarm: the scheduled parts delivery. Every part type the parts service keeps stock of gets
// `restock_quantity` more (default 2; 0 turns deliveries off), as one parts.restocked event per part type. An event
// is a function of the part type, the quantity and the delivery's minute, so a tick that runs twice in a minute
// sends the same events and the stock grows once.
import type { Producer } from "kafkajs";
import { describeError } from "../../lib/errors.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { readEntityStates } from "../../lib/step/index.ts";
import { clientsFor, eventRecords, sendWithinDeadline } from "../../lib/step/tools.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { catalog } from "../events.ts";
import { configCount } from "../steps.ts";
import { DATABASE, TOPIC } from "../topology.ts";
import type { Stock } from "./stock.ts";

export const DEFAULT_RESTOCK_QUANTITY = 2;

/** The delivery of `quantity` of each part type, at the minute `now` falls in. */
export function deliveryEvents(partTypes: string[], quantity: number, now: number) {
  const minute = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
  const deliveryId = `delivery-${minute.slice(0, 16)}`;
  return partTypes.map((partType) =>
    catalog.build("parts.restocked", {
      id: rootEventId(`parts-delivery:${minute}:${partType}:${quantity}`),
      source: "/ow-saga/parts/deliveries",
      subject: partType,
      time: minute,
      data: { partType, quantity, deliveryId, deliveredBy: "schedule" },
    }),
  );
}

export async function deliver(
  clients: { cloudant: Cloudant; producer: () => Promise<Producer> },
  quantity: number,
  now: number,
  deadline: number,
  targets = { database: DATABASE.parts, topic: TOPIC.deliveries },
): Promise<string[]> {
  if (quantity === 0) return [];
  const partTypes = (await readEntityStates<Stock>(clients.cloudant, targets.database)).map((stock) => stock.partType);
  const events = deliveryEvents(partTypes, quantity, now);
  await sendWithinDeadline(clients.producer, eventRecords(targets.topic, events), { at: deadline, reserveMs: 2_000 });
  return partTypes;
}

export async function main(params: Record<string, unknown>) {
  try {
    const quantity = configCount(params, "restock_quantity", DEFAULT_RESTOCK_QUANTITY);
    const now = Date.now();
    const deadline = Number(process.env.__OW_DEADLINE ?? now + 60_000);
    const restocked = await deliver(clientsFor(params), quantity, now, deadline);
    console.log(JSON.stringify({ action: "parts.deliveries", quantity, partTypes: restocked.length }));
    return { quantity, restocked };
  } catch (err) {
    return { error: { action: "parts.deliveries", message: describeError(err) } };
  }
}
