// A catalog of event types, each with a schema for its data: checked when an event is consumed and when one is
// emitted. Domain-free: services declare their own catalogs.

import { SagaError } from "../errors.ts";
import { isRecord, propertyOf } from "../narrow.ts";
import * as z from "../zod.ts";
import { type CloudEvent, envelopeSchema, extensionNameProblems } from "./envelope.ts";

export type ParseFailureReason = "envelope" | "schema" | "unknown-type";

export type ParseResult<E> = { ok: true; event: E } | { ok: false; reason: ParseFailureReason; message: string };

/** Thrown by `build`: an event this service was about to emit breaks its own catalog (a bug, not bad input). */
export class EventSchemaError extends SagaError {
  override name = "EventSchemaError";
  constructor(
    readonly eventType: string,
    readonly reason: ParseFailureReason,
    detail: string,
  ) {
    super(`cannot emit ${eventType}: ${detail}`);
  }
}

export interface BuildFields<TData> {
  id: string;
  source: string;
  subject: string;
  data: TData;
  time: string;
  sagaid?: string;
  causationid?: string;
  activationid?: string;
}

/** A catalog's event types, each with the schema of its data. */
export type Schemas = Record<string, z.core.$ZodType>;

/** The union of the catalog's events (or of those of the types `T`), each with its typed (parsed) data. */
export type EventOf<S extends Schemas, T extends keyof S & string = keyof S & string> = {
  [K in T]: CloudEvent<K, z.output<S[K]>>;
}[T];

/** The schemas behind a catalog, to name its event types' data. */
export type SchemasOf<C> = C extends EventCatalog<infer S> ? S : never;

export interface EventCatalog<S extends Schemas> {
  schemas: S;
  types: (keyof S & string)[];
  parse(value: unknown): ParseResult<EventOf<S>>;
  build<T extends keyof S & string>(type: T, fields: BuildFields<z.input<S[T]>>): CloudEvent<T, z.output<S[T]>>;
}

const MAX_ISSUES = 3;

function pathLabel(prefix: string, path: readonly PropertyKey[]): string {
  const label = path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    prefix,
  );
  return label || "(the event)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, part) => propertyOf(node, part), root);
}

/** zod says what was expected; for wrong values (not wrong types) say also what came, briefly. */
function received(issue: z.core.$ZodIssue, root: unknown): string {
  if (issue.code === "invalid_type" || issue.code === "unrecognized_keys" || issue.code === "custom") return "";
  const text = JSON.stringify(valueAt(root, issue.path)) ?? "undefined";
  return ` (got ${text.length > 40 ? `${text.slice(0, 40)}…` : text})`;
}

/** "data.items[0].quantity: Too small: expected number to be >0 (got -1)" — the first few problems, each with its path. */
function describeIssues(error: z.core.$ZodError, root: unknown, prefix: string): string {
  const shown = error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${pathLabel(prefix, issue.path)}: ${issue.message}${received(issue, root)}`);
  const more = error.issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

function describeNonObject(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

export function defineEventCatalog<S extends Schemas>(schemas: S): EventCatalog<S> {
  // Object.keys is typed string[] for any object; these are S's own keys.
  const types = Object.keys(schemas) as (keyof S & string)[];

  const parse = (value: unknown): ParseResult<EventOf<S>> => {
    if (!isRecord(value)) {
      return { ok: false, reason: "envelope", message: `the event is ${describeNonObject(value)}, not a JSON object` };
    }
    const envelope = z.safeParse(envelopeSchema, value);
    if (!envelope.success) return { ok: false, reason: "envelope", message: describeIssues(envelope.error, value, "") };
    const badNames = extensionNameProblems(value);
    if (badNames.length > 0) return { ok: false, reason: "envelope", message: badNames.join("; ") };
    const type = envelope.data.type;
    const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
    if (!schema) {
      return { ok: false, reason: "unknown-type", message: `unknown event type ${JSON.stringify(type)}` };
    }
    const data = z.safeParse(schema, envelope.data.data);
    if (!data.success) {
      return {
        ok: false,
        reason: "schema",
        message: `${type}: ${describeIssues(data.error, envelope.data.data, "data")}`,
      };
    }
    // Extensions other than ours are kept as they came: the event is passed on, not rewritten. Its envelope and data
    // were just parsed by the schemas of its type, which TypeScript cannot follow through a generic S.
    return { ok: true, event: { ...value, ...envelope.data, data: data.data } as EventOf<S> };
  };

  const build = <T extends keyof S & string>(type: T, fields: BuildFields<z.input<S[T]>>) => {
    // Optional fields given as undefined are left out, so the event reads the same before and after JSON.
    const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const parsed = parse({ ...given, specversion: "1.0", type, datacontenttype: "application/json" });
    if (!parsed.ok) throw new EventSchemaError(type, parsed.reason, parsed.message);
    // parse() checked the data against S[T]: the event is of type T.
    return parsed.event as CloudEvent<T, z.output<S[T]>>;
  };

  return { schemas, types, parse, build };
}
