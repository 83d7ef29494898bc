// Web action (parts service): an operator books a delivery of parts. POST {partType, quantity, deliveryId?} ->
// 202 with the event id. The delivery is recorded once in the parts database (its parts.restocked in the record's
// outbox) before it is published, as the other operator commands are: the same deliveryId again publishes the same
// event at most once more, and a different delivery under the same id is a 409.
import { rootEventId } from "../../lib/events/derived-id.ts";
import { clientsFor, recordOnce } from "../../lib/step/tools.ts";
import * as z from "../../lib/zod.ts";
import { catalog } from "../events.ts";
import { parseInput, sameContent, settingParam } from "../operator/commands.ts";
import { failureOf, HttpFailure, type Params, requirePost } from "../operator/http.ts";
import { type CommandDoc, publishRecorded, storeCaller } from "../operator/records.ts";
import { DATABASE, TOPIC } from "../topology.ts";

export const restockSchema = z.object({
  partType: z
    .string()
    .check(z.trim(), z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a part type: lowercase letters, digits and '-'")),
  quantity: z
    .number()
    .check(z.int("must be a whole number"), z.gte(1, "must be at least 1"), z.lte(10_000, "must be at most 10000")),
  deliveryId: z.optional(
    z
      .string()
      .check(z.trim(), z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "1 to 64 letters, digits, '.', '_' or '-'")),
  ),
});

export function restockDoc(input: z.output<typeof restockSchema>, now: number, topic: string): CommandDoc {
  const deliveryId = input.deliveryId ?? `op-${rootEventId(`${input.partType}:${input.quantity}:${now}`).slice(0, 8)}`;
  const time = new Date(now).toISOString();
  const event = catalog.build("parts.restocked", {
    id: rootEventId(`operator-restock:${deliveryId}`),
    source: "/ow-saga/operator",
    subject: input.partType,
    time,
    data: { partType: input.partType, quantity: input.quantity, deliveryId, deliveredBy: "operator" },
  });
  return {
    _id: `operator-restock:${deliveryId}`,
    kind: "operator-restock",
    request: { partType: input.partType, quantity: input.quantity, deliveryId },
    recordedAt: time,
    eventId: event.id,
    outbox: [{ topic, key: input.partType, event }],
    outboxSince: now,
  };
}

export async function main(params: Params) {
  const json = { "content-type": "application/json" };
  try {
    requirePost(params);
    const input = parseInput(restockSchema, params);
    const clients = clientsFor(params);
    const store = storeCaller();
    const db = settingParam(params, "operator_parts_database", DATABASE.parts);
    const doc = restockDoc(input, Date.now(), settingParam(params, "operator_deliveries_topic", TOPIC.deliveries));
    const recorded = await recordOnce(clients.cloudant, db, doc, store);
    const { deliveryId, ...asked } = recorded.doc.request;
    if (recorded.replayed && !sameContent(asked, { partType: input.partType, quantity: input.quantity })) {
      throw new HttpFailure(409, `delivery ${deliveryId} was already booked with different content`, {
        field: "deliveryId",
        recorded: recorded.doc.request,
      });
    }
    await publishRecorded(
      clients,
      db,
      recorded.doc,
      store,
      `delivery ${deliveryId} is recorded and goes out once Kafka is back`,
    );
    const body = { status: "accepted", deliveryId, eventId: recorded.doc.eventId, replayed: recorded.replayed };
    return { statusCode: 202, headers: json, body };
  } catch (err) {
    const { statusCode, headers, ...body } = failureOf(err);
    return { statusCode, headers: { ...headers, ...json }, body };
  }
}
