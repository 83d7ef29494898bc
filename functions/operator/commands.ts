// What the operator may ask, checked field by field, and the command documents and events it leads to. Pure.
//
// request-maintenance belongs to the monitoring service: it records in monitoring's database and publishes
// maintenance.requested on monitoring's topic, as the detector does (incident "op-<requestId>", work order
// "wo-op-<requestId>"). cancel-workorder belongs to the workorders service: it reads and records in the workorders
// database only and publishes workorder.cancel.requested on the saga's command topic.
//
// Idempotency: the request id is the client's (`requestId` in the body, or an Idempotency-Key header), else derived
// from the request itself and the UTC day, so a retried call on the same day is the same request. Event ids and
// document ids derive from the request id, and the event is recorded before it is published: a retry publishes
// the same bytes again at most, never a second incident. A cancel's id derives from (work order, reason,
// requestedBy).
import { createHash } from "node:crypto";
import { rootEventId } from "../../lib/events/derived-id.ts";
import * as z from "../../lib/zod.ts";
import { catalog, PROBLEMS } from "../events.ts";
import { REMEDY } from "../monitoring/detection.ts";
import type { ServiceSetting } from "../service-settings.ts";
import { TOPIC } from "../topology.ts";
import { workOrderIdFor } from "../workorders/saga.ts";
import { HttpFailure, type Params } from "./http.ts";
import type { CommandDoc } from "./records.ts";

export const OPERATOR_SOURCE = "/ow-saga/operator";

const text = (max: number) =>
  z
    .string()
    .check(z.trim(), z.minLength(1, "must not be empty"), z.maxLength(max, `must be at most ${max} characters`));
const token = (what: string) =>
  z
    .string()
    .check(z.trim(), z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, `${what}: 1 to 64 letters, digits, '.', '_' or '-'`));

export const maintenanceRequestSchema = z.object({
  assetId: text(100),
  site: text(100),
  problem: z.enum(PROBLEMS),
  note: z.optional(z.string().check(z.trim(), z.maxLength(500, "must be at most 500 characters"))),
  requestId: z.optional(token("a request id")),
});

export const cancelSchema = z.object({
  workOrderId: z
    .string()
    .check(z.trim(), z.regex(/^wo-[A-Za-z0-9._:-]{1,200}$/, "must be a work order id: wo-<incident id>")),
  reason: text(500),
  requestedBy: text(100),
});

export type MaintenanceRequestInput = z.output<typeof maintenanceRequestSchema>;
export type CancelInput = z.output<typeof cancelSchema>;

/**
 * The input as the schema wants it, or a 400 naming the first field at fault (all of them in `issues`). Unknown
 * fields are ignored: the platform and the package add their own parameters.
 */
export function parseInput<S extends z.core.$ZodType>(schema: S, params: Params): z.output<S> {
  const parsed = z.safeParse(schema, params);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join(".") || "body";
    const missing = issue.code === "invalid_type" && issue.path.length > 0 && params[String(issue.path[0])] == null;
    return { field, message: missing ? "is required" : issue.message };
  });
  const first = issues[0] ?? { field: "body", message: "is invalid" };
  throw new HttpFailure(400, `${first.field}: ${first.message}`, { field: first.field, issues });
}

const digest = (parts: unknown[], length: number) =>
  createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, length);

export interface MaintenanceRequest {
  requestId: string;
  /** True when the request id was derived from the request rather than given by the client. */
  derived: boolean;
  assetId: string;
  site: string;
  problem: MaintenanceRequestInput["problem"];
  note?: string;
}

export function maintenanceRequest(params: Params, now: number): MaintenanceRequest {
  const headers = (params.__ow_headers ?? {}) as Record<string, unknown>;
  const fromHeader = headers["idempotency-key"];
  const input = parseInput(maintenanceRequestSchema, {
    ...params,
    requestId: params.requestId ?? fromHeader,
  });
  const { assetId, site, problem, note } = input;
  const day = new Date(now).toISOString().slice(0, 10);
  const requestId = input.requestId ?? `r${digest(["maintenance", assetId, site, problem, note ?? "", day], 24)}`;
  return { requestId, derived: input.requestId === undefined, assetId, site, problem, ...(note ? { note } : {}) };
}

export const incidentIdFor = (requestId: string) => `op-${requestId}`;
export const requestDocId = (requestId: string) => `operator-request:${requestId}`;

/** What a retry must repeat to be the same request. */
export const requestContent = (r: Pick<MaintenanceRequest, "assetId" | "site" | "problem" | "note">) => ({
  assetId: r.assetId,
  site: r.site,
  problem: r.problem,
  note: r.note ?? "",
});

export function sameContent(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.every((key) => JSON.stringify(a[key]) === JSON.stringify(b[key]));
}

/** The request's document in monitoring's database, with its maintenance.requested in the outbox. */
export function requestDoc(request: MaintenanceRequest, now: number, topic: string = TOPIC.monitoring): CommandDoc {
  const incidentId = incidentIdFor(request.requestId);
  const time = new Date(now).toISOString();
  const event = catalog.build("maintenance.requested", {
    id: rootEventId(`operator-request:${request.requestId}`),
    source: OPERATOR_SOURCE,
    subject: incidentId,
    sagaid: incidentId,
    time,
    data: {
      incidentId,
      assetId: request.assetId,
      site: request.site,
      problem: request.problem,
      ...REMEDY[request.problem],
      requestedBy: "operator",
      detectedAt: time,
    },
  });
  return {
    _id: requestDocId(request.requestId),
    kind: "operator-request",
    request: { requestId: request.requestId, ...requestContent(request) },
    recordedAt: time,
    eventId: event.id,
    outbox: [{ topic, key: incidentId, event }],
    outboxSince: now,
  };
}

/** The answer's fields for a recorded request. */
export function requestSummary(doc: CommandDoc) {
  const requestId = String(doc.request.requestId);
  const incidentId = incidentIdFor(requestId);
  return { requestId, incidentId, workOrderId: workOrderIdFor(incidentId), eventId: doc.eventId };
}

export const cancelDocId = (c: CancelInput) =>
  `operator-cancel:${c.workOrderId}:${digest(["cancel", c.workOrderId, c.reason, c.requestedBy], 16)}`;

/** The cancel's document in the workorders database, with its workorder.cancel.requested in the outbox. */
export function cancelDoc(
  cancel: CancelInput,
  incidentId: string,
  now: number,
  topic: string = TOPIC.commands,
): CommandDoc {
  const id = cancelDocId(cancel);
  const time = new Date(now).toISOString();
  const event = catalog.build("workorder.cancel.requested", {
    id: rootEventId(id),
    source: OPERATOR_SOURCE,
    subject: cancel.workOrderId,
    ...(incidentId ? { sagaid: incidentId } : {}),
    time,
    data: { workOrderId: cancel.workOrderId, reason: cancel.reason, requestedBy: cancel.requestedBy },
  });
  return {
    _id: id,
    kind: "operator-cancel",
    request: { ...cancel },
    recordedAt: time,
    eventId: event.id,
    outbox: [{ topic, key: cancel.workOrderId, event }],
    outboxSince: now,
  };
}

/**
 * Where the commands are recorded and published: the owning service's database and topic, unless the deployment
 * binds others (functions/service-settings.ts). Bound, so that no caller can set them.
 */
export function settingParam(params: Params, name: ServiceSetting, fallback: string): string {
  const value = params[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback;
}
