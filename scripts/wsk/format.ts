// wsk's output formats: "ok: <what happened>" lines, JSON indented by 4 spaces, and lists as columns under the
// collection's name.

export type Out = (line: string) => void;

export const json = (value: unknown) => JSON.stringify(value, null, 4);

/** `wsk <kind> get NAME`: the ok line, then the entity. */
export function got(out: Out, kind: string, name: string, entity: unknown): void {
  out(`ok: got ${kind} ${name}`);
  out(json(entity));
}

/** `/namespace/[package/]name`, as wsk lists entities. */
export const fullName = (entity: { namespace?: string; name?: string }) => `/${entity.namespace ?? "_"}/${entity.name}`;

export function list(out: Out, collection: string, rows: [string, string][]): void {
  out(collection);
  for (const [name, detail] of rows) out(`${name.padEnd(70)} ${detail}`.trimEnd());
}

type Annotated = { annotations?: { key: string; value: unknown }[] };
export const annotation = (entity: Annotated, key: string) => entity.annotations?.find((a) => a.key === key)?.value;

const pad = (text: string, width: number) => text.padEnd(width);
const ACTIVATION_HEADER = `${pad("Datetime", 19)} ${pad("Activation ID", 32)} ${pad("Kind", 9)} ${pad("Start", 5)} ${pad("Duration", 10)} ${pad("Status", 17)} Entity`;

export interface ActivationRow extends Annotated {
  activationId: string;
  name: string;
  namespace: string;
  version?: string;
  start: number;
  duration?: number;
  statusCode?: number;
}

const STATUS = ["success", "application error", "developer error", "internal error"];

/** `wsk activation list`: newest first, one line each. */
export function activationTable(out: Out, rows: ActivationRow[]): void {
  out(ACTIVATION_HEADER);
  for (const a of rows) {
    const when = new Date(a.start).toISOString().replace("T", " ").slice(0, 19);
    const kind = String(annotation(a, "kind") ?? "");
    const start =
      annotation(a, "initTime") !== undefined ? "cold" : annotation(a, "kind") === undefined ? "--" : "warm";
    const duration = a.duration === undefined ? "--" : `${a.duration}ms`;
    const status = STATUS[a.statusCode ?? 0] ?? `status ${a.statusCode}`;
    const entity = `${a.namespace}/${a.name}:${a.version ?? "0.0.1"}`;
    out(
      `${when} ${pad(a.activationId, 32)} ${pad(kind, 9)} ${pad(start, 5)} ${pad(duration, 10)} ${pad(status, 17)} ${entity}`,
    );
  }
}
