// The event envelope: CloudEvents 1.0 in structured JSON mode, the whole event in the Kafka record's value
// (OpenWhisk's Kafka feed drops record headers, so binary mode with ce_* headers would lose the attributes).
import { z } from "zod";

/** CloudEvents extension names: lowercase letters and digits, at most 20 characters (spec 1.0, "Attribute Naming"). */
export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

const nonEmpty = z.string().min(1);

export const envelopeSchema = z.object({
  specversion: z.literal("1.0"),
  id: nonEmpty,
  source: nonEmpty,
  type: nonEmpty,
  time: z.iso.datetime({ offset: true }),
  subject: nonEmpty,
  datacontenttype: z.literal("application/json").default("application/json"),
  data: z.unknown(),
  /** The saga (correlation) this event belongs to. */
  sagaid: nonEmpty.optional(),
  /** The id of the event that caused this one; absent for events that start something. */
  causationid: nonEmpty.optional(),
});

export interface CloudEvent<TType extends string = string, TData = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: TType;
  time: string;
  subject: string;
  datacontenttype: "application/json";
  data: TData;
  sagaid?: string;
  causationid?: string;
}

/**
 * The idempotency key: CloudEvents makes source + id unique. JSON of the pair, so that no choice of characters in
 * either part can make two different pairs collide.
 */
export function idempotencyKey(event: Pick<CloudEvent, "source" | "id">): string {
  return JSON.stringify([event.source, event.id]);
}

/** Extension attributes other than ours are allowed if their names follow the spec. */
export function badExtensionNames(value: Record<string, unknown>): string[] {
  const known = new Set(Object.keys(envelopeSchema.shape));
  return Object.keys(value).filter((name) => !known.has(name) && !EXTENSION_NAME.test(name));
}
