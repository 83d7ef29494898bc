// npm run simulate -- [--pumps N] [--rate R] [--seconds S] [--faulty SHARE] [--seed X] [--duplicate] ...
// The pump simulator: registers a fleet on the assets topic and streams its readings to the metrics topic, with a
// share of pumps going wrong. Ctrl-C stops it cleanly.
import type { Kafka } from "kafkajs";
import { createIdempotentProducer, ensureTopics } from "../lib/kafka/client.ts";
import { brokerOf, runCommand, usageAsked } from "./cli.ts";
import { parseSimulateArgs, type SimulateOptions, USAGE } from "./simulator/options.ts";
import { progressPrinter } from "./simulator/progress.ts";
import { formatReport } from "./simulator/report.ts";
import { simulate, simulatorTopics } from "./simulator/run.ts";

async function main(argv: string[]): Promise<number> {
  const options = parseSimulateArgs(argv);
  if (!options) return usageAsked(USAGE);
  const kafka = brokerOf("simulate", "pump-simulator");
  if (!kafka) return 1;
  await createTopics(kafka, options);
  return await simulateUntilDone(kafka, options);
}

async function createTopics(kafka: Kafka, options: SimulateOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, simulatorTopics(options));
  } finally {
    await admin.disconnect();
  }
}

/** Streams until the run ends or Ctrl-C; the exit code says which. */
async function simulateUntilDone(kafka: Kafka, options: SimulateOptions): Promise<number> {
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
