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

/** Runs ava with TAP output, echoing it, and counts from TAP's own summary lines. */
function runAva(args: string[], env: NodeJS.ProcessEnv): Promise<Totals & { exitCode: number }> {
  return new Promise((resolve, reject) => {
    const ava = spawn(process.execPath, ["node_modules/ava/entrypoints/cli.mjs", "--tap", ...args], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Ctrl-C or a SIGTERM ends the tests, not this wrapper: it still has to stop the stack it started.
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => ava.kill(signal));
    const totals = { passed: 0, failed: 0, notOk: 0 };
    createInterface({ input: ava.stdout }).on("line", (line) => {
      console.log(line);
      const summary = /^# (pass|fail) (\d+)$/.exec(line);
      if (summary?.[1] === "pass") totals.passed = Number(summary[2]);
      if (summary?.[1] === "fail") totals.failed = Number(summary[2]);
      if (line.startsWith("not ok")) totals.notOk += 1;
    });
    ava.on("error", reject);
    ava.on("close", (code) => {
      // An uncaught error or a timeout can end ava without a "# fail" line; never report that as a pass.
      const failed = Math.max(totals.failed, totals.notOk, code === 0 ? 0 : 1);
      resolve({ passed: totals.passed, failed, exitCode: code ?? 1 });
    });
  });
}

async function main(): Promise<number> {
  const wasUp = readState() !== undefined && (await stackStatus()).up;
  let totals: Totals = { passed: 0, failed: 1 };
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
      if (result.failed > 0 || result.exitCode !== 0) exitCode = 1;
    }
  } catch (err) {
    console.error(err instanceof StackError ? `stack: ${err.message}` : err);
  } finally {
    if (!wasUp) await stackDown((line) => console.log(`# ${line}`)).catch((err: unknown) => console.error(err));
  }
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  return exitCode;
}

main().then((code) => process.exit(code));
