// wsk action … and wsk activation …
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import type { Client } from "openwhisk";
import { numberOption, UsageError } from "../cli.ts";
import { listPage, needName, parseVerbArgs, positive } from "./args.ts";
import { type ActivationRow, activationTable, annotation, fullName, got, json, list, type Out } from "./format.ts";
import { deleteNamed, getNamed } from "./named-verbs.ts";

export interface Context {
  ow: Client;
  out: Out;
  /** Runs until a signal or the poll's --exit. */
  sleep: (ms: number) => Promise<void>;
}

const ACTION_OPTIONS = {
  kind: { type: "string" },
  main: { type: "string" },
  web: { type: "string" },
  timeout: { type: "string", short: "t" },
  memory: { type: "string", short: "m" },
  result: { type: "boolean", short: "r" },
  blocking: { type: "boolean", short: "b" },
  limit: { type: "string", short: "l" },
  skip: { type: "string", short: "s" },
} as const;

const WEB = { true: "true", yes: "true", false: "false", no: "false", raw: "raw" } as const;

/** The body of an action create or update: only what was given, so an update keeps the rest. */
function actionBody(
  file: string | undefined,
  parsed: ReturnType<typeof parseVerbArgs<typeof ACTION_OPTIONS>>,
): Record<string, unknown> {
  const { values, params, annotations } = parsed;
  const body: Record<string, unknown> = {};
  if (file) {
    const zip = extname(file) === ".zip";
    const kind = values.kind ?? (zip || extname(file) === ".js" ? "nodejs:20" : undefined);
    if (!kind) throw new UsageError(`cannot tell the kind of ${file}: give --kind`);
    const code = zip ? readFileSync(file).toString("base64") : readFileSync(file, "utf8");
    body.exec = { kind, code, binary: zip, ...(values.main ? { main: values.main } : {}) };
  }
  if (Object.keys(params).length > 0) body.parameters = Object.entries(params).map(([key, value]) => ({ key, value }));
  const notes = { ...annotations };
  if (values.web !== undefined) {
    const web = WEB[values.web.toLowerCase() as keyof typeof WEB];
    if (!web) throw new UsageError(`--web must be true, false or raw, not ${values.web}`);
    notes["web-export"] = web !== "false";
    if (web !== "false") notes.final = true;
    notes["raw-http"] = web === "raw";
  }
  if (Object.keys(notes).length > 0) body.annotations = Object.entries(notes).map(([key, value]) => ({ key, value }));
  const timeout = positive("timeout", values.timeout);
  const memory = positive("memory", values.memory);
  if (timeout || memory) body.limits = { ...(timeout ? { timeout } : {}), ...(memory ? { memory } : {}) };
  return body;
}

/** An activation that failed: the client rejects with its record (or a platform error) in `error`. */
function failedActivation(err: unknown): Record<string, unknown> | undefined {
  const body = (err as { error?: unknown }).error;
  return body && typeof body === "object" && "activationId" in body ? (body as Record<string, unknown>) : undefined;
}

export async function action(ctx: Context, verb: string, argv: string[]): Promise<number> {
  const parsed = parseVerbArgs(argv, ACTION_OPTIONS);
  const { positionals, values, params } = parsed;
  const { ow, out } = ctx;
  switch (verb) {
    case "list": {
      const actions = await ow.actions.list({
        ...listPage(values),
      });
      list(
        out,
        "actions",
        actions.map((a) => [fullName(a), `${a.publish ? "shared" : "private"} ${String(annotation(a, "exec") ?? "")}`]),
      );
      return 0;
    }
    case "get":
      return getNamed(out, "action", positionals, (q) => ow.actions.get(q));
    case "create":
    case "update": {
      const name = needName(positionals, `wsk action ${verb} NAME [FILE] [flags]`);
      const file = positionals[1];
      if (verb === "create" && !file)
        throw new UsageError("wsk action create NAME FILE: the action's code is required");
      const body = actionBody(file, parsed);
      if (verb === "create") await ow.actions.create({ name, action: body as never });
      else await ow.actions.update({ name, action: body as never });
      out(`ok: ${verb}d action ${name}`);
      return 0;
    }
    case "delete":
      return deleteNamed(out, "action", positionals, (q) => ow.actions.delete(q));
    case "invoke": {
      const name = needName(positionals, "wsk action invoke NAME [-p KEY VALUE] [-r | -b]");
      const blocking = Boolean(values.blocking || values.result);
      try {
        const invoked = (await ow.actions.invoke({ name, params, blocking })) as unknown as Record<string, unknown>;
        if (values.result) out(json((invoked.response as { result?: unknown } | undefined)?.result ?? {}));
        else {
          out(`ok: invoked /_/${name} with id ${invoked.activationId}`);
          if (blocking) out(json(invoked));
        }
        return 0;
      } catch (err) {
        const failed = failedActivation(err);
        if (!failed) throw err;
        if (values.result) out(json((failed.response as { result?: unknown } | undefined)?.result ?? {}));
        else out(json(failed));
        throw new Error(
          `Unable to invoke action '${name}': the action did not succeed (activation ${failed.activationId})`,
        );
      }
    }
    default:
      throw new UsageError(`unknown verb: wsk action list|get|create|update|delete|invoke, not ${verb}`);
  }
}

const ACTIVATION_OPTIONS = {
  last: { type: "boolean" },
  limit: { type: "string", short: "l" },
  skip: { type: "string", short: "s" },
  exit: { type: "string", short: "e" },
  "since-seconds": { type: "string" },
} as const;

export async function activation(ctx: Context, verb: string, argv: string[]): Promise<number> {
  const { positionals, values } = parseVerbArgs(argv, ACTIVATION_OPTIONS);
  const { ow, out } = ctx;
  const idOf = async () => {
    if (values.last) {
      const [latest] = (await ow.activations.list({ limit: 1 })) as unknown as ActivationRow[];
      if (!latest) throw new Error("there is no activation yet");
      return latest.activationId;
    }
    return needName(positionals, `wsk activation ${verb} ID (or --last)`);
  };
  switch (verb) {
    case "list": {
      const rows = (await ow.activations.list({
        ...(positionals[0] ? { name: positionals[0] } : {}),
        ...listPage(values),
        docs: true,
      })) as unknown as ActivationRow[];
      activationTable(out, rows);
      return 0;
    }
    case "get": {
      const id = await idOf();
      got(out, "activation", id, await ow.activations.get({ name: id }));
      return 0;
    }
    case "logs": {
      for (const line of (await ow.activations.logs({ name: await idOf() })).logs) out(String(line));
      return 0;
    }
    case "result": {
      out(json((await ow.activations.result({ name: await idOf() })).result ?? {}));
      return 0;
    }
    case "poll":
      return poll(
        ctx,
        positionals[0],
        positive("exit", values.exit),
        numberOption("since-seconds", values["since-seconds"], { min: 0 }) ?? 0,
      );
    default:
      throw new UsageError(`unknown verb: wsk activation list|get|logs|result|poll, not ${verb}`);
  }
}

/** `wsk activation poll`: each new activation's logs as it ends, until Ctrl-C or --exit seconds. */
async function poll(ctx: Context, name: string | undefined, exitSeconds: number | undefined, sinceSeconds: number) {
  const { ow, out } = ctx;
  out("Enter Ctrl-c to exit.");
  out(`Polling for activation logs${name ? ` of ${name}` : ""}`);
  const started = Date.now();
  const seen = new Set<string>();
  let since = started - sinceSeconds * 1000;
  while (exitSeconds === undefined || Date.now() - started < exitSeconds * 1000) {
    const rows = (await ow.activations.list({
      ...(name ? { name } : {}),
      since,
      limit: 200,
      docs: true,
    })) as unknown as (ActivationRow & { logs?: string[] })[];
    for (const a of rows.reverse()) {
      if (seen.has(a.activationId)) continue;
      seen.add(a.activationId);
      since = Math.max(since, a.start);
      out("");
      out(`Activation: '${a.name}' (${a.activationId})`);
      for (const line of a.logs ?? []) out(line);
    }
    await ctx.sleep(1_000);
  }
  return 0;
}
