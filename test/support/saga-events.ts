// Building the system's events for tests, through the real catalog.
import { randomUUID } from "node:crypto";
import type * as z from "zod";
import { catalog, type EventType, type SagaEvent, type SagaSchemas } from "../../functions/events.ts";
import { DEFAULT_RETENTION, type HandlerContext } from "../../lib/step/index.ts";

export function sagaEvent<T extends EventType>(
  type: T,
  subject: string,
  data: z.input<SagaSchemas[T]>,
  time = new Date(),
): SagaEvent<T> {
  return catalog.build(type, { id: randomUUID(), source: "/test", subject, data, time: time.toISOString() });
}

export function context(now: number, config: Record<string, unknown> = {}, entityId = "e"): HandlerContext {
  return { now, step: "test", entityId, config, retention: DEFAULT_RETENTION };
}
