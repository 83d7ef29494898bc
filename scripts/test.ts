// npm test [-- ava args]: brings the local stack up when it is not running, runs every test against it, stops
// what it started, and ends with the line CI reads: "N passed, N failed". The tests in test/exclusive restart the
// broker or load the whole machine: they run after the others, one file at a time, never beside another test.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  clientEnv,
  eventStreamsEnv,
  readState,
  StackError,
  stackDown,
  stackStatus,
  stackUp,
} from "./stack/lifecycle.ts";

interface Totals {
  passed: number;
  failed: number;
}

/** A failed test's TAP block: its "not ok" line and the YAML under it, at most this many lines. */
const FAILURE_LINES = 30;

/** Runs ava with TAP output, echoing it, and counts from TAP's own summary lines. */
function runAva(args: string[], env: NodeJS.ProcessEnv): Promise<Totals & { exitCode: number; failures: string[][] }> {
  return new Promise((resolve, reject) => {
    const ava = spawn(process.execPath, ["node_modules/ava/entrypoints/cli.mjs", "--tap", ...args], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Ctrl-C or a SIGTERM ends the tests, not this wrapper: it still has to stop the stack it started.
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => ava.kill(signal));
    const totals = { passed: 0, failed: 0, notOk: 0 };
    const failures: string[][] = [];
    let failure: string[] | undefined;
    createInterface({ input: ava.stdout }).on("line", (line) => {
      console.log(line);
      if (line.startsWith("ok ") || /^\d+\.\.\d+$/.test(line)) failure = undefined;
      if (line.startsWith("not ok")) {
        totals.notOk += 1;
        failure = [];
        failures.push(failure);
      }
      // A test's own log lines ("# ...") come between its "not ok" and the reason: they stay above, only once.
      if (failure && failure.length < FAILURE_LINES && !line.startsWith("#")) failure.push(line);
      if (line === "  ...") failure = undefined;
      const summary = /^# (pass|fail) (\d+)$/.exec(line);
      if (summary?.[1] === "pass") totals.passed = Number(summary[2]);
      if (summary?.[1] === "fail") totals.failed = Number(summary[2]);
    });
    ava.on("error", reject);
    ava.on("close", (code) => {
      // An uncaught error or a timeout can end ava without a "# fail" line; never report that as a pass.
      const failed = Math.max(totals.failed, totals.notOk, code === 0 ? 0 : 1);
      resolve({ passed: totals.passed, failed, exitCode: code ?? 1, failures });
    });
  });
}

async function main(): Promise<number> {
  const wasUp = readState() !== undefined && (await stackStatus()).up;
  let totals: Totals = { passed: 0, failed: 1 };
  const failures: string[][] = [];
  let exitCode = 1;
  try {
    const state = await stackUp({ inMemory: !wasUp, log: (line) => console.log(`# ${line}`) });
    // KafkaJS logs the broker's passing answers (a new topic's metadata not there yet) at error level: quiet in tests.
    // The broker's Event Streams face (SASL_SSL, the admin API), for the tests of messageHubFeed.
    const eventStreams = state.kafka.eventStreams
      ? Object.fromEntries(
          Object.entries(eventStreamsEnv(state)).map(([key, value]) => [`EVENT_STREAMS_${key}`, value]),
        )
      : {};
    const env = {
      ...process.env,
      ...clientEnv(state),
      ...eventStreams,
      KAFKAJS_NO_PARTITIONER_WARNING: "1",
      KAFKA_LOG_LEVEL: process.env.KAFKA_LOG_LEVEL ?? "nothing",
    };
    const args = process.argv.slice(2);
    // With arguments, ava runs exactly what they name; without, the shared tests first, then the exclusive ones.
    const phases =
      args.length > 0
        ? [args]
        : [
            ["test/**/*.test.ts", "!test/exclusive/**"],
            ["--serial", "test/exclusive/**/*.test.ts"],
          ];
    totals = { passed: 0, failed: 0 };
    exitCode = 0;
    for (const phase of phases) {
      const result = await runAva(phase, env);
      totals = { passed: totals.passed + result.passed, failed: totals.failed + result.failed };
      failures.push(...result.failures);
      if (result.failed > 0 || result.exitCode !== 0) exitCode = 1;
    }
  } catch (err) {
    console.error(err instanceof StackError ? `stack: ${err.message}` : err);
  } finally {
    if (!wasUp) await stackDown((line) => console.log(`# ${line}`)).catch((err: unknown) => console.error(err));
  }
  // A long log is often read from its end (or cut in the middle): each failure's reason again, just above the total.
  if (failures.length > 0) console.log("# the failed tests again:");
  for (const line of failures.flat()) console.log(`# ${line}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  return exitCode;
}

main().then((code) => process.exit(code));
