// npx wsk <noun> <verb> …: the wsk verbs people use, on the openwhisk npm client, which speaks OpenWhisk's REST API.
// The real wsk is a Go binary that no package registry this project uses ships, and no maintained Node port of its
// verbs exists; the client does the HTTP, this does wsk's arguments and output.
import { Agent } from "node:https";
import openwhisk from "openwhisk";
import { describeError } from "../../lib/errors.ts";
import { UsageError } from "../cli.ts";
import { action, activation, type Context } from "./actions.ts";
import { parseGlobalFlags } from "./args.ts";
import { findTarget, NoCredentials } from "./credentials.ts";
import { namespace, pkg, property, rule, trigger } from "./entities.ts";

const USAGE = `usage: wsk <noun> <verb> [NAME] [flags]   (-i/--insecure, --apihost HOST, -u/--auth KEY)
  action      list | get | create NAME FILE | update NAME [FILE] | delete | invoke   -r -b -p K V -P FILE
              --kind KIND --web true|false|raw --timeout MS --memory MB
  activation  list [NAME] | get | logs | result | poll [NAME] [--exit S]   --last --limit N --skip N
  trigger     list | get | create [--feed FEED] | delete | fire   -p K V
  rule        list | get | create NAME TRIGGER ACTION | delete | enable | disable
  package     list | get | bind /NAMESPACE/PACKAGE NAME   -p K V
  namespace   list
  property    get [--apihost] [--auth] [--namespace]`;

const NOUNS = { action, activation, trigger, rule, package: pkg, namespace } as const;

/** The noun and verb: the first two words that are neither flags nor a global flag's value. */
function splitCommand(argv: string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (words.length < 2 && !arg.startsWith("-")) words.push(arg);
    else {
      rest.push(arg);
      if (words.length < 2 && ["--apihost", "--auth", "-u"].includes(arg) && i + 1 < argv.length)
        rest.push(argv[++i] ?? "");
    }
  }
  return { words, rest };
}

export async function wsk(argv: string[], out: (line: string) => void, note: (line: string) => void): Promise<number> {
  const { words, rest } = splitCommand(argv);
  const [noun, verb] = words;
  const help = rest.includes("-h") || rest.includes("--help");
  if (!noun || !verb || help) {
    out(USAGE);
    // Asked for, the usage is an answer (as wsk's own --help); a bare `wsk` is a command left unsaid.
    return noun || help ? 0 : 2;
  }
  // Global flags are read here; each verb parses them again with its own (property reads --auth as a question).
  const globals = noun === "property" ? {} : parseGlobalFlags(rest);
  const target = await findTarget(globals);
  note(`wsk: ${target.apihost} (from ${target.from}), namespace ${target.namespace}`);
  const ow = openwhisk({
    apihost: target.apihost,
    api_key: target.auth,
    ...(target.namespace !== "_" ? { namespace: target.namespace } : {}),
    ...(globals.insecure ? { ignore_certs: true } : {}),
    ...(target.ca ? { agent: new Agent({ ca: target.ca, keepAlive: false }) } : {}),
  });
  const ctx: Context = { ow, out, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  if (noun === "property") return property(ctx, verb, rest, target);
  const run = Object.hasOwn(NOUNS, noun) ? NOUNS[noun as keyof typeof NOUNS] : undefined;
  if (!run) throw new UsageError(`unknown command ${noun}\n${USAGE}`);
  return run(ctx, verb, rest);
}

/** An error as wsk shows it: one line, with the platform's own message when it gave one. */
export function errorLine(err: unknown): string {
  const body = (err as { error?: { error?: string; code?: string } }).error;
  const platform = body && typeof body === "object" && typeof body.error === "string" ? body.error : undefined;
  if (err instanceof NoCredentials || err instanceof UsageError) return `error: ${err.message}`;
  return `error: ${platform ? `${platform}${body?.code ? ` (code ${body.code})` : ""}` : describeError(err)}`;
}
