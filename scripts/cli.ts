// What every command shares: one usage error, and one way to run a command's main: its code is the exit code; a
// usage error prints the reason and the usage and exits 2; any other failure prints one line and exits 1.
import { describeError, SagaError } from "../lib/errors.ts";

/** The command line is wrong: the usage follows the reason. */
export class UsageError extends SagaError {
  override name = "UsageError";
}

/** Ours, or node:util parseArgs's (an unknown option, a missing value). */
export const isUsageError = (err: unknown): err is Error =>
  err instanceof UsageError || String((err as { code?: unknown } | null)?.code ?? "").startsWith("ERR_PARSE_ARGS");

/** Runs a command's main and exits with its code (see the opening comment). */
export function runCommand(name: string, usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (isUsageError(err)) {
        console.error(`${name}: ${err.message}\n${usage}`);
        process.exit(2);
      }
      console.error(`${name}: ${describeError(err)}`);
      process.exit(1);
    },
  );
}
