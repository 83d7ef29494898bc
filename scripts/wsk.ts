// npm run wsk -- <verb>: the wsk CLI verbs people use, on the openwhisk npm client (the real wsk is a Go binary that
// no package registry this project uses ships). Credentials as wsk reads them: WSK_CONFIG_FILE or ~/.wskprops,
// overridden by OW_APIHOST / OW_AUTH / OW_NAMESPACE; .stack/wskprops (written by the local OpenWhisk) as fallback.
//   action invoke NAME [-r|--result] [-b|--blocking] [-p KEY VALUE]... [-P FILE.json]
//   trigger fire NAME [-p KEY VALUE]...
//   activation get ID | activation logs ID | activation result ID | activation list [NAME] [--limit N]
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import openwhisk from "openwhisk";

function props(): Record<string, string> {
  const candidates = [process.env.WSK_CONFIG_FILE, join(homedir(), ".wskprops"), ".stack/wskprops"];
  const file = candidates.find((f): f is string => f !== undefined && existsSync(f));
  const out: Record<string, string> = {};
  if (file) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) out[line.slice(0, i).trim().toUpperCase()] = line.slice(i + 1).trim();
    }
  }
  if (process.env.OW_APIHOST) out.APIHOST = process.env.OW_APIHOST;
  if (process.env.OW_AUTH) out.AUTH = process.env.OW_AUTH;
  if (process.env.OW_NAMESPACE) out.NAMESPACE = process.env.OW_NAMESPACE;
  return out;
}

function parseParams(args: string[]): {
  rest: string[];
  params: Record<string, unknown>;
  flags: Set<string>;
  options: Map<string, string>;
} {
  const rest: string[] = [];
  const params: Record<string, unknown> = {};
  const flags = new Set<string>();
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-p" || a === "--param") {
      const key = args[++i];
      const raw = args[++i];
      if (key === undefined || raw === undefined) throw new Error("-p needs KEY VALUE");
      try {
        params[key] = JSON.parse(raw);
      } catch {
        params[key] = raw;
      }
    } else if (a === "-P" || a === "--param-file") {
      const file = args[++i];
      if (file === undefined) throw new Error("-P needs a JSON file");
      Object.assign(params, JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>);
    } else if (a === "--limit") options.set("limit", args[++i] ?? "");
    else if (a.startsWith("-")) flags.add(a);
    else rest.push(a);
  }
  return { rest, params, flags, options };
}

async function main(argv: string[]): Promise<void> {
  const p = props();
  if (!p.APIHOST || !p.AUTH)
    throw new Error("no credentials: set WSK_CONFIG_FILE, ~/.wskprops, or OW_APIHOST and OW_AUTH");
  const apihost = /^https?:\/\//.test(p.APIHOST) ? p.APIHOST : `https://${p.APIHOST}`;
  const ow = openwhisk({ apihost, api_key: p.AUTH, ...(p.NAMESPACE ? { namespace: p.NAMESPACE } : {}) });
  const [noun, verb, ...args] = argv;
  const { rest, params, flags, options } = parseParams(args);
  const name = rest[0];
  const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  if (noun === "action" && verb === "invoke" && name) {
    const result = flags.has("-r") || flags.has("--result");
    const blocking = result || flags.has("-b") || flags.has("--blocking");
    print(await ow.actions.invoke({ name, params, blocking, result }));
  } else if (noun === "trigger" && verb === "fire" && name) {
    print(await ow.triggers.invoke({ name, params }));
  } else if (noun === "activation" && verb === "get" && name) {
    print(await ow.activations.get({ name }));
  } else if (noun === "activation" && verb === "logs" && name) {
    for (const line of ((await ow.activations.logs({ name })) as { logs: string[] }).logs) console.log(line);
  } else if (noun === "activation" && verb === "result" && name) {
    print(await ow.activations.result({ name }));
  } else if (noun === "activation" && verb === "list") {
    const limit = Number(options.get("limit") ?? 30);
    const list = (await ow.activations.list({ ...(name ? { name } : {}), limit })) as unknown as Array<
      Record<string, unknown>
    >;
    for (const a of list) {
      const status = (a.annotations as Array<{ key: string; value: unknown }> | undefined)?.find(
        (x) => x.key === "path",
      )?.value;
      console.log(
        `${new Date(Number(a.start)).toISOString()} ${a.activationId} ${status ?? a.name} ${a.statusCode === 0 ? "success" : `status ${a.statusCode}`}`,
      );
    }
  } else {
    throw new Error(
      "usage: wsk action invoke NAME [-r] [-p K V] | trigger fire NAME [-p K V] | activation get|logs|result ID | activation list [NAME]",
    );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { message?: string; error?: unknown };
  console.error(`error: ${e.message ?? err}`);
  if (e.error && typeof e.error === "object" && "response" in (e.error as object))
    console.log(JSON.stringify(e.error, null, 2));
  process.exit(1);
});
