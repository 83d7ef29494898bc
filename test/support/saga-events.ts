// Building the system's events for tests, through the real catalog.
import { randomUUID } from "node:crypto";
import { catalog, type EventType } from "../../functions/events.ts";
import type { CloudEvent } from "../../lib/events/envelope.ts";
import { DEFAULT_RETENTION, type HandlerContext } from "../../lib/step/spec.ts";

export function sagaEvent(
  type: EventType,
  subject: string,
  data: Record<string, unknown>,
  time = new Date(),
): CloudEvent {
  return catalog.build(type, {
    id: randomUUID(),
    source: "/test",
    subject,
    data: data as never,
    time: time.toISOString(),
  });
}

export function context(now: number, config: Record<string, unknown> = {}, entityId = "e"): HandlerContext {
  return { now, step: "test", entityId, config, retention: DEFAULT_RETENTION };
}
