// Turning a handler's Emit list into outbox entries: ids derived from the input event's key, the step's name and
// the position, so a re-run of the same event emits the same ids.
import { EventSchemaError } from "../events/catalog.ts";
import { deriveEventId } from "../events/derived-id.ts";
import type { CloudEvent } from "../events/envelope.ts";
import type { OutboxEntry } from "./documents.ts";
import type { Emit, StepCatalog } from "./spec.ts";

export interface EmittingStep {
  name: string;
  source?: string;
  catalog: StepCatalog;
  routes: Readonly<Record<string, string>>;
}

/** Throws when an emitted type has no route or its data breaks the type's schema. */
export function outboxEntriesFor(
  step: EmittingStep,
  input: { event: CloudEvent<string, unknown>; key: string },
  emits: Emit[],
  defaultSubject: string,
  now: number,
): OutboxEntry[] {
  return emits.map((emit, position) => {
    const topic = step.routes[emit.type];
    if (!topic)
      throw new EventSchemaError(emit.type, "unknown-type", `no topic is routed for emitted type ${emit.type}`);
    const subject = emit.subject ?? defaultSubject;
    const sagaid = emit.sagaid ?? input.event.sagaid;
    const event = step.catalog.build(emit.type, {
      id: deriveEventId(input.key, step.name, position),
      source: step.source ?? `/steps/${step.name}`,
      subject,
      data: emit.data,
      time: new Date(now).toISOString(),
      causationid: input.event.id,
      ...(sagaid ? { sagaid } : {}),
    });
    return { topic, key: subject, event };
  });
}
