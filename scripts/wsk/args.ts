// wsk's command line: `wsk <noun> <verb> [name] [flags]`. Flags are parsed by node:util parseArgs; wsk's -p KEY VALUE
// (and -a) take two values, which parseArgs cannot express, so those pairs are taken out first.
import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { numberOption, UsageError } from "../cli.ts";

/** Every verb's options: global ones plus its own. */
export const GLOBAL_OPTIONS = {
  apihost: { type: "string" },
  auth: { type: "string", short: "u" },
  insecure: { type: "boolean", short: "i" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export interface Parsed<V> {
  positionals: string[];
  values: V;
  params: Record<string, unknown>;
  annotations: Record<string, unknown>;
}

/** A -p value as wsk reads it: JSON when it parses, else the string. */
const paramValue = (raw: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
};

function takePairs(argv: string[]): {
  rest: string[];
  params: Record<string, unknown>;
  annotations: Record<string, unknown>;
} {
  const rest: string[] = [];
  const params: Record<string, unknown> = {};
  const annotations: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    const pairInto =
      arg === "-p" || arg === "--param" ? params : arg === "-a" || arg === "--annotation" ? annotations : undefined;
    if (pairInto) {
      const key = argv[i + 1];
      const value = argv[i + 2];
      if (key === undefined || value === undefined)
        throw new UsageError(`${arg} needs a key and a value: ${arg} KEY VALUE`);
      pairInto[key] = paramValue(value);
      i += 2;
    } else if (arg === "-P" || arg === "--param-file" || arg === "-A" || arg === "--annotation-file") {
      const file = argv[i + 1];
      if (file === undefined) throw new UsageError(`${arg} needs a JSON file`);
      let read: unknown;
      try {
        read = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        throw new UsageError(`${arg} ${file}: ${err instanceof Error ? err.message : err}`);
      }
      if (typeof read !== "object" || read === null || Array.isArray(read))
        throw new UsageError(`${arg} ${file}: the file must hold a JSON object`);
      Object.assign(arg === "-P" || arg === "--param-file" ? params : annotations, read);
      i += 1;
    } else rest.push(arg);
  }
  return { rest, params, annotations };
}

export function parseVerbArgs<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  const { rest, params, annotations } = takePairs(argv);
  try {
    const { positionals, values } = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { positionals, values, params, annotations };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** The global flags alone; every other flag is left for the verb to check. */
export function parseGlobalFlags(argv: string[]): { apihost?: string; auth?: string; insecure?: boolean } {
  const { values } = parseArgs({
    args: takePairs(argv).rest,
    options: GLOBAL_OPTIONS,
    allowPositionals: true,
    strict: false,
  });
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  return { apihost: text(values.apihost), auth: text(values.auth), insecure: values.insecure === true };
}

/** The verb's NAME, or a usage error naming the command. */
export function needName(positionals: string[], usage: string): string {
  const name = positionals[0];
  if (!name) throw new UsageError(`a name is required: ${usage}`);
  return name;
}

/** A whole number above 0 (--limit, --timeout, --memory, --exit), or undefined when not given. */
export const positive = (flag: string, raw: string | undefined) => numberOption(flag, raw, { whole: true, above: 0 });

/** A list verb's page: --limit (default 30) and --skip (default 0), each checked as wsk would take it. */
export const listPage = (values: { limit?: string; skip?: string }) => ({
  limit: positive("limit", values.limit) ?? 30,
  skip: numberOption("skip", values.skip, { whole: true, min: 0 }) ?? 0,
});
