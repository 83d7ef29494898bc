// npm start [-- simulator flags] [--once] [--event-streams] [--lossless] [--https]: the whole system on the local stack. The stack; an empty saga (topics,
// databases, feed groups); the actions built; the local OpenWhisk on 127.0.0.1:3233 (credentials in .stack/wskprops);
// the real `serverless deploy` and the Composer compositions; a simulated pump fleet; then, once the system is quiet,
// the report and its invariants. The system keeps running for a look around until Ctrl-C, which stops everything
// this command started. `--once` stops after the report, exiting 1 if an invariant is broken.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { createKafka } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../lib/kafka/config.ts";
import { createCloudant } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../lib/store/config.ts";
import { printReport } from "./report/invariants.ts";
import { notLocal, resetSaga } from "./saga/reset.ts";
import { runSaga } from "./saga/run.ts";
import { type RunningSystem, startSystem } from "./saga/system.ts";
import { parseSimulateArgs, USAGE } from "./simulator/options.ts";
import { clientEnv, eventStreamsEnv, readState, StackError, stackDown, stackUp } from "./stack/lifecycle.ts";
import { listenerOf } from "./stack/listeners.ts";
import { stackDir } from "./stack/paths.ts";
import { isPortFree } from "./stack/processes.ts";
import { operatorSecretFile } from "./stack/secrets.ts";

const START_USAGE = `usage: npm start -- [--once] [--lossless] [--event-streams] [--https] [simulator flags]
  --once             stop after the report; exit 1 if an invariant is broken (default: keep running until Ctrl-C)
  --lossless         the triggers use this project's lossless feed (commits a batch after its actions succeeded)
  --event-streams    Kafka as IBM Event Streams: SASL_SSL to the stack's broker, its admin API; the triggers use
                     messageHubFeed, or the lossless feed over SASL_SSL with --lossless
  --https            the local OpenWhisk serves HTTPS with a certificate made in .stack/tls/, as a real API host
  -h, --help         this text
The simulated fleet (as npm run simulate takes them):
${USAGE.split("\n").slice(2).join("\n")}
npm start runs on services of this machine only (it empties the saga's topics and databases first): the stack it
starts, or KAFKA_BROKERS and CLOUDANT_URL on 127.0.0.1. For services elsewhere: docs/deploying.md.`;

const once = process.argv.includes("--once");
// --event-streams: the triggers use messageHubFeed, and everything speaks SASL_SSL to the broker's Event Streams face.
const viaEventStreams = process.argv.includes("--event-streams");
// --lossless: the triggers use this project's lossless feed (triggers/lossless), which commits after success.
const lossless = process.argv.includes("--lossless");
// --https: the local OpenWhisk's API over HTTPS, its certificate in .stack/tls/ (the clients are given it).
const https = process.argv.includes("--https");
const OWN_FLAGS = ["--once", "--event-streams", "--lossless", "--https"];
let simulation: ReturnType<typeof parseSimulateArgs>;
try {
  simulation = parseSimulateArgs(process.argv.slice(2).filter((arg) => !OWN_FLAGS.includes(arg)));
} catch (err) {
  console.error(`start: ${err instanceof Error ? err.message : err}\n${START_USAGE}`);
  process.exit(2);
}
if (!simulation) {
  console.log(START_USAGE);
  process.exit(0);
}

const startedAt = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${line}`);
let system: RunningSystem | undefined;
let stackWasUp = false;

let stopping: Promise<never> | undefined;

/** How long the system may take to stop (its feeds leave their consumer groups): a gone broker must not hold Ctrl-C. */
const SYSTEM_STOP_MS = 10_000;

/** Stops what this command started, once: Ctrl-C reaches this process from the terminal and again through tsx. */
function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    log("Stopping what this command started...");
    const stopped = system?.stop().then(
      () => true,
      () => true,
    );
    const inTime = await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, SYSTEM_STOP_MS, false))]);
    if (inTime === false)
      log(`The local OpenWhisk did not stop within ${SYSTEM_STOP_MS / 1000} s (a service is gone?): leaving it`);
    if (!stackWasUp) await stackDown((line) => log(line)).catch(() => undefined);
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

// What the local OpenWhisk says (a feed's trouble, a disabled trigger, a skipped batch) is kept whole in a file;
// its warnings are shown as they happen.
const PLATFORM_WARNING = /disabl|skipp|fail|error|exceed|crash|refus|restart/i;

function platformLogger(file: string, log: (line: string) => void): (line: string) => void {
  log(`The local OpenWhisk's log: ${file}`);
  return (line) => {
    appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
    if (PLATFORM_WARNING.test(line)) log(`openwhisk: ${line}`);
  };
}

const port = Number(process.env.LOCAL_OW_PORT ?? 3233);

async function main(): Promise<void> {
  if (!(await isPortFree(port))) {
    const who = listenerOf(port);
    throw new StackError(
      `port ${port} on 127.0.0.1 is in use${who ? ` by ${who}` : ""}: is another npm start running? Stop it, or set LOCAL_OW_PORT`,
    );
  }
  const elsewhere = notLocal(kafkaSettingsFromEnv()?.brokers ?? [], storeSettingsFromEnv()?.url ?? "http://127.0.0.1");
  if (elsewhere) {
    throw new StackError(
      `${elsewhere}, and npm start empties the saga's topics and databases first: it runs on this machine's services only. For yours: npm run provision, npx serverless deploy, npm run simulate (docs/deploying.md)`,
    );
  }
  log(
    `Dashboard: ${https ? "https" : "http"}://127.0.0.1:${port}/api/v1/web/guest/saga/dashboard   (live once the system is deployed)`,
  );
  stackWasUp = readState() !== undefined;
  const state = await stackUp({ log });
  const env: Record<string, string> = {
    ...(viaEventStreams ? eventStreamsEnv(state) : clientEnv(state)),
    ...(lossless ? { KAFKA_FEED: "lossless" } : {}),
  };
  if (lossless) log("Triggers use the lossless feed: a batch is committed only after its actions succeed");
  if (viaEventStreams)
    log(
      `Kafka as IBM Event Streams: SASL_SSL on ${env.KAFKA_BROKERS}, admin API ${env.KAFKA_ADMIN_URL}${lossless ? "" : "; triggers use messageHubFeed"}`,
    );
  if (https) log("The local OpenWhisk serves HTTPS: its certificate is .stack/tls/openwhisk.pem");
  const kafkaSettings = requireKafkaSettings(kafkaSettingsFromEnv(env, "start"));
  const admin = createKafka(kafkaSettings).admin();
  await admin.connect();
  const store = requireStoreSettings(storeSettingsFromEnv(env));
  await resetSaga(admin, createCloudant(store), { brokers: kafkaSettings.brokers, storeUrl: store.url }, log);
  await admin.disconnect();

  system = await startSystem({
    env,
    port,
    https,
    wskpropsPath: join(stackDir, "wskprops"),
    // Scarce parts and crews and a one-minute deadline, so that compensations show in a short run.
    policies: {
      workorderDeadlineMs: 60_000,
      stockDefault: 1,
      crewsCapacityPerDay: 1,
      deadlineCron: "*/5 * * * * *",
      relayCron: "*/10 * * * * *",
    },
    log,
    platformLog: platformLogger(join(stackDir, "openwhisk.log"), log),
  });
  const web = `${system.ow.apiHost}/api/v1/web/guest/saga`;
  log(`Deployed. The dashboard is live: ${web}/dashboard`);
  const { report } = await runSaga(env, simulation as NonNullable<typeof simulation>, { log });
  console.log("\nReport:");
  printReport(report, (line) => console.log(`  ${line}`));
  console.log(`\nDashboard:   ${web}/dashboard`);
  console.log(
    `Look around: ${web}/workorders-view?id=wo-..., ${web}/assets-view, ${web}/parts-view, ${web}/crews-view`,
  );
  console.log("             npx wsk activation list   (the local OpenWhisk's credentials are found by themselves)");
  console.log(
    `Operator:    ${web}/parts-restock, request-maintenance and cancel-workorder need the header X-Require-Whisk-Auth: the secret in ${operatorSecretFile}`,
  );
  const broken = report.invariants.some((invariant) => !invariant.holds);
  if (once) await stop(broken ? 1 : 0);
  console.log("Running. Press Ctrl-C to stop everything this command started.");
  setInterval(() => undefined, 60_000); // stay in the foreground until a signal
}

main().catch(async (err: unknown) => {
  console.error(
    err instanceof StackError ? `stack: ${err.message}` : `start: ${err instanceof Error ? err.message : err}`,
  );
  await stop(1);
});
