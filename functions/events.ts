// Every event of the pump maintenance system, its schema and its topic: the one place they are listed.
import { defineEventCatalog, type EventOf } from "../lib/events/catalog.ts";
import type { EmitOf } from "../lib/step/index.ts";
import * as z from "../lib/zod.ts";

const id = z.string().check(z.minLength(1));
// Magnitudes (rpm, amperes) cannot be negative; pressure, flow and temperature can, by sensor and site.
const reading = {
  rotation: z.number().check(z.nonnegative()),
  current: z.number().check(z.nonnegative()),
  pressure: z.number(),
  flowRate: z.number(),
  temperature: z.number(),
};

export const PROBLEMS = ["overheating", "pressure-drop", "overcurrent", "cavitation", "stalled"] as const;
export const CANCEL_REASONS = ["no-part", "no-crew", "deadline", "operator"] as const;

const readingSchema = z.object({ ...reading, timestamp: z.iso.datetime({ offset: true }) });

export const catalog = defineEventCatalog({
  /** A pump joins the fleet (the seed's PumpSimulator asset event). */
  "pump.registered": z.object({
    assetId: id,
    type: z.string(),
    os: z.string(),
    version: z.string(),
    ipAddress: z.string(),
    antivirus: z.string(),
    site: id,
    latitude: z.number().check(z.gte(-90), z.lte(90)),
    longitude: z.number().check(z.gte(-180), z.lte(180)),
    creationDate: z.iso.datetime({ offset: true }),
    nominal: z.object(reading),
  }),
  /** One reading of a pump's sensors (the seed's metric event). */
  "pump.metric.reported": z.extend(readingSchema, { assetId: id }),
  /** Monitoring (or an operator) asks for maintenance: one per incident. */
  "maintenance.requested": z.object({
    incidentId: id,
    assetId: id,
    site: id,
    problem: z.enum(PROBLEMS),
    partType: id,
    skill: id,
    requestedBy: z.enum(["monitoring", "operator"]),
    detectedAt: z.iso.datetime({ offset: true }),
  }),
  "workorder.opened": z.object({
    workOrderId: id,
    incidentId: id,
    assetId: id,
    site: id,
    partType: id,
    skill: id,
    deadline: z.iso.datetime({ offset: true }),
  }),
  "workorder.scheduled": z.object({ workOrderId: id, partType: id, crewId: id, day: z.iso.date() }),
  "workorder.cancelled": z.object({
    workOrderId: id,
    site: id,
    partType: id,
    reason: z.enum(CANCEL_REASONS),
    detail: z.string(),
  }),
  /** Commands for the work-order saga: from the deadline alarm and from operators. */
  "workorder.deadline.passed": z.object({ workOrderId: id, deadline: z.iso.datetime({ offset: true }) }),
  "workorder.cancel.requested": z.object({
    workOrderId: id,
    reason: z.string().check(z.minLength(1)),
    requestedBy: id,
  }),
  "part.reserved": z.object({
    workOrderId: id,
    partType: id,
    site: id,
    skill: id,
    deadline: z.iso.datetime({ offset: true }),
  }),
  "part.unavailable": z.object({ workOrderId: id, partType: id }),
  /** Parts delivered to the store: from the scheduled delivery alarm or an operator. */
  "parts.restocked": z.object({
    partType: id,
    quantity: z.number().check(z.int(), z.gte(1)),
    deliveryId: id,
    deliveredBy: z.enum(["schedule", "operator"]),
  }),
  "part.released": z.object({ workOrderId: id, partType: id }),
  "crew.assigned": z.object({ workOrderId: id, crewId: id, site: id, day: z.iso.date() }),
  "crew.unavailable": z.object({ workOrderId: id, site: id, skill: id }),
  "crew.released": z.object({ workOrderId: id, crewId: id, day: z.iso.date() }),
});

export type SagaCatalog = typeof catalog;

/** What a pump's sensors read at a time, as `pump.metric.reported` carries it (without the pump's id). */
export type Reading = z.infer<typeof readingSchema>;
/** A pump's sensor values without a time: its nominal values, or one reading's. */
export type SensorValues = Omit<Reading, "timestamp">;
export type SagaSchemas = SagaCatalog["schemas"];
export type EventType = keyof SagaSchemas & string;
/** A saga event of one of the types `T` (any type by default), its data typed by its schema. */
export type SagaEvent<T extends EventType = EventType> = EventOf<SagaSchemas, T>;
/** An event a saga step may emit, its data checked against its type's schema. */
export type SagaEmit = EmitOf<SagaSchemas>;
