// A catalog of event types, each with a schema for its data: checked when an event is consumed and when one is
// emitted. Domain-free: services declare their own catalogs.
import type { z } from "zod";
import { badExtensionNames, type CloudEvent, envelopeSchema } from "./envelope.ts";

export class EventSchemaError extends Error {
  override name = "EventSchemaError";
}

export type ParseResult<E> =
  | { ok: true; event: E }
  | { ok: false; reason: "envelope" | "schema" | "unknown-type"; message: string };

export interface BuildFields<TData> {
  id: string;
  source: string;
  subject: string;
  data: TData;
  time: string;
  sagaid?: string;
  causationid?: string;
}

type Schemas = Record<string, z.ZodType>;

/** The union of the catalog's events, each with its typed data. */
export type EventOf<S extends Schemas> = { [T in keyof S & string]: CloudEvent<T, z.infer<S[T]>> }[keyof S & string];

export interface EventCatalog<S extends Schemas> {
  types: (keyof S & string)[];
  parse(value: unknown): ParseResult<EventOf<S>>;
  build<T extends keyof S & string>(type: T, fields: BuildFields<z.infer<S[T]>>): CloudEvent<T, z.infer<S[T]>>;
}

/** "data.amount: expected number, received string" — the first few problems, each with its path. */
function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${[prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(value)"}: ${issue.message}`)
    .join("; ");
}

export function defineEventCatalog<S extends Schemas>(schemas: S): EventCatalog<S> {
  const types = Object.keys(schemas) as (keyof S & string)[];
  const parse = (value: unknown): ParseResult<EventOf<S>> => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { ok: false, reason: "envelope", message: "the value is not a JSON object" };
    }
    const envelope = envelopeSchema.safeParse(value);
    if (!envelope.success) return { ok: false, reason: "envelope", message: describeIssues(envelope.error, "") };
    const badNames = badExtensionNames(value as Record<string, unknown>);
    if (badNames.length > 0) {
      return {
        ok: false,
        reason: "envelope",
        message: `extension names must be [a-z0-9]{1,20}: ${badNames.join(", ")}`,
      };
    }
    const schema = schemas[envelope.data.type];
    if (!schema) return { ok: false, reason: "unknown-type", message: `unknown event type ${envelope.data.type}` };
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) {
      return { ok: false, reason: "schema", message: `${envelope.data.type}: ${describeIssues(data.error, "data")}` };
    }
    return { ok: true, event: { ...(value as object), ...envelope.data, data: data.data } as EventOf<S> };
  };
  const build = <T extends keyof S & string>(type: T, fields: BuildFields<z.infer<S[T]>>) => {
    const candidate = { specversion: "1.0", type, datacontenttype: "application/json", ...fields };
    const parsed = parse(candidate);
    if (!parsed.ok) throw new EventSchemaError(`cannot emit ${type}: ${parsed.message}`);
    return parsed.event as CloudEvent<T, z.infer<S[T]>>;
  };
  return { types, parse, build };
}
