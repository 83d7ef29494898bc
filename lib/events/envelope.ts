// The event envelope: CloudEvents 1.0 in structured JSON mode, the whole event in the Kafka record's value
// (OpenWhisk's Kafka feed drops record headers, so binary mode with ce_* headers would lose the attributes).
// zod/mini from lib/zod.ts, as a namespace import: `import { z }` would keep all of zod, its 40 locales among them,
// in every bundle.
import * as z from "../zod.ts";

/** CloudEvents attribute names: lowercase letters and digits, at most 20 characters (spec 1.0, "Attribute Naming"). */
export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

/**
 * The attributes that name things (the id and source make the idempotency key, the subject is the entity, its
 * document's id and the Kafka key) have a bound, so that one record cannot make every document that remembers it
 * large: 256 characters, well above any name this system makes (a work order's id is at most 203).
 */
export const MAX_NAME_CHARS = 256;

const nonEmpty = z.string().check(z.minLength(1), z.maxLength(MAX_NAME_CHARS));

export const envelopeSchema = z.object({
  specversion: z.literal("1.0"),
  id: nonEmpty,
  source: nonEmpty,
  type: nonEmpty,
  /** RFC 3339 with seconds and a zone (Z or ±hh:mm). */
  time: z.iso.datetime({ offset: true }),
  /** Optional in CloudEvents, required here: it names the entity and is the Kafka key. */
  subject: nonEmpty,
  datacontenttype: z._default(z.literal("application/json"), "application/json"),
  data: z.unknown(),
  /** The saga (correlation) this event belongs to. */
  sagaid: z.optional(nonEmpty),
  /** The id of the event that caused this one; absent for events that start something. */
  causationid: z.optional(nonEmpty),
  /** The OpenWhisk activation that emitted this event; absent for events from outside the platform. */
  activationid: z.optional(nonEmpty),
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
  activationid?: string;
}

/**
 * The idempotency key: CloudEvents makes source + id unique. JSON of the pair, so that no character in either part
 * can make two different pairs collide (a plain separator could appear inside a source or an id).
 */
export function idempotencyKey(event: Pick<CloudEvent, "source" | "id">): string {
  return JSON.stringify([event.source, event.id]);
}

/** Attribute names the envelope schema declares; anything else on the event is an extension. */
const DECLARED = new Set(Object.keys(envelopeSchema.shape));

/** One line per extension whose name breaks the spec's naming rule; empty when all are well named. */
export function extensionNameProblems(value: Record<string, unknown>): string[] {
  return Object.keys(value)
    .filter((name) => !DECLARED.has(name) && !EXTENSION_NAME.test(name))
    .map((name) => {
      // data_base64 is CloudEvents' member for binary data: our events always carry JSON data.
      if (name === "data_base64")
        return "data_base64 is not accepted: data must be JSON (datacontenttype application/json)";
      const why = [
        name === "" && "it is empty",
        /[^a-z0-9]/.test(name) && "only a-z and 0-9 are allowed",
        name.length > 20 && `it has ${name.length} characters, more than 20`,
      ].filter(Boolean);
      return `extension name ${JSON.stringify(name)} is invalid: ${why.join(", ")}`;
    });
}
