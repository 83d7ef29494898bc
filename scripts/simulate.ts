// npm run simulate -- [--pumps N] [--rate R] [--seconds S] [--faulty SHARE] [--seed X] [--duplicate] ...
// The pump simulator: registers a fleet on the assets topic and streams its readings to the metrics topic, with a
// share of pumps going wrong. Ctrl-C stops it cleanly.
import { createIdempotentProducer, createKafka, ensureTopics } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv } from "../lib/kafka/config.ts";
import { runCommand } from "./cli.ts";
import { NO_BROKERS, parseSimulateArgs, USAGE } from "./simulator/options.ts";
import { progressPrinter } from "./simulator/progress.ts";
import { formatReport } from "./simulator/report.ts";
import { simulate, simulatorTopics } from "./simulator/run.ts";
import { useRunningStack } from "./stack/stack.ts";

async function main(argv: string[]): Promise<number> {
  const options = parseSimulateArgs(argv);
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  useRunningStack("simulate");
  const settings = kafkaSettingsFromEnv(process.env, "pump-simulator");
  if (!settings) {
    console.error(NO_BROKERS);
    return 1;
  }
  const kafka = createKafka(settings);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, simulatorTopics(options));
  } finally {
    await admin.disconnect();
  }

  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C does not wait
    console.error("\nstopping after the send in flight (Ctrl-C again to quit at once)");
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const printer = progressPrinter(process.stdout);
  try {
    const report = await simulate(options, {
      producer,
      log: (line) => console.log(line),
      signal: stop.signal,
      progress: (progress) =>
        progress.phase === "done" || progress.phase === "interrupted"
          ? printer.done(progress)
          : printer.update(progress),
    });
    for (const line of formatReport(report)) console.log(line);
    return report.interrupted ? 130 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await producer.disconnect();
  }
}

runCommand("simulate", USAGE, () => main(process.argv.slice(2)));
