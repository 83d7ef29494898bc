// What every command shares: parsing its arguments, its usage errors, finding the broker, and running its main.
// A main returns its exit code; --help prints the usage and exits 0; a usage error prints the reason and the usage
// and exits 2; any other failure prints one line and exits 1. scripts/ holds the commands (one file per npm script,
// its parts in a folder of the same name); it may import every other folder, and none imports it.
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Kafka } from "kafkajs";
import { describeError, SagaError } from "../lib/errors.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv } from "../lib/kafka/config.ts";
import { propertyOf } from "../lib/narrow.ts";
import { useRunningStack } from "./stack/lifecycle.ts";

/** The command line is wrong: the usage follows the reason. */
export class UsageError extends SagaError {
  override name = "UsageError";
}

/** Ours, or node:util parseArgs's (an unknown option, a missing value). */
export const isUsageError = (err: unknown): err is Error =>
  err instanceof UsageError || String(propertyOf(err, "code") ?? "").startsWith("ERR_PARSE_ARGS");

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The arguments, parsed strictly, with -h/--help understood: undefined when the usage was asked for. A wrong
 * command line (an unknown option, a missing value) is a UsageError.
 */
export function commandLine<const O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals,
    });
    return propertyOf(parsed.values, "help") === true ? undefined : parsed;
  } catch (err) {
    throw isUsageError(err) ? new UsageError(err.message) : err;
  }
}

/** Options that each take a value, for a command with many: `{ name: { type: "string" } }` for each name. */
export const valueOptions = <const K extends string>(...names: K[]) =>
  Object.fromEntries(names.map((name) => [name, { type: "string" }])) as Record<K, { type: "string" }>;

/** What a numeric option accepts: whole or not, and its bounds (`above` excludes its bound, `min` and `max` do not). */
export interface NumberRule {
  whole?: boolean;
  above?: number;
  min?: number;
  max?: number;
}

const wanted = ({ whole, above, min, max }: NumberRule) => {
  const kind = whole ? "an integer" : "a number";
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (above !== undefined) return `${kind} > ${above}`;
  return min !== undefined ? `${kind} >= ${min}` : kind;
};

/** A numeric option's value, undefined when it is absent; a UsageError naming the flag and what it accepts. */
export function numberOption(flag: string, raw: string | undefined, rule: NumberRule): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const fits =
    raw.trim() !== "" &&
    Number.isFinite(value) &&
    (!rule.whole || Number.isInteger(value)) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!fits) throw new UsageError(`--${flag} must be ${wanted(rule)}, got "${raw}"`);
  return value;
}

/** The usage, printed because it was asked for: the command's exit code. */
export function usageAsked(usage: string): number {
  console.log(usage);
  return 0;
}

/** The one line the commands print when there is no broker to talk to. */
export const NO_BROKERS =
  "KAFKA_BROKERS is not set and no stack is running: start the stack (npm run stack -- up) or point it at a broker";

/** The broker the environment names, or the running stack's; undefined, with NO_BROKERS said, when there is none. */
export function brokerOf(command: string, clientId = command): Kafka | undefined {
  useRunningStack(command);
  const settings = kafkaSettingsFromEnv(process.env, clientId);
  if (!settings) console.error(NO_BROKERS);
  return settings ? createKafka(settings) : undefined;
}

/** Runs a command's main and exits with its code (see the opening comment); `describe` words a failure. */
export function runCommand(
  name: string,
  usage: string,
  main: () => Promise<number>,
  describe: (err: unknown) => string = describeError,
): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (isUsageError(err)) {
        console.error(`${name}: ${err.message}\n${usage}`);
        process.exit(2);
      }
      console.error(`${name}: ${describe(err)}`);
      process.exit(1);
    },
  );
}
