// One run of the whole system: the simulator drives a fleet, the deployed steps react, and once everything is
// quiet the report says what happened and whether every invariant holds.
import { createIdempotentProducer, createKafka, ensureTopics } from "../../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../../lib/kafka/config.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";
import { type SagaReport, sagaReport } from "../report/invariants.ts";
import type { SimulateOptions } from "../simulator/options.ts";
import { type SimulationReport, simulate, simulatorTopics } from "../simulator/run.ts";
import { waitUntilQuiet } from "./quiet.ts";

export interface SagaRun {
  simulation: SimulationReport;
  report: SagaReport;
}

export async function runSaga(
  env: Record<string, string>,
  simulation: SimulateOptions,
  options: { quietTimeoutMs?: number; log?: (line: string) => void; expectedDeadLetters?: number } = {},
): Promise<SagaRun> {
  const log = options.log ?? console.log;
  const kafka = createKafka(requireKafkaSettings(kafkaSettingsFromEnv(env, "saga-run")));
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(env)));
  const admin = kafka.admin();
  const producer = createIdempotentProducer(kafka);
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    await ensureTopics(admin, simulatorTopics(simulation));
    log(
      `Simulating ${simulation.pumps} pumps for ${simulation.seconds} s at ${simulation.rate} readings/s (seed ${simulation.seed})...`,
    );
    const simulated = await simulate(simulation, { producer, log: (line) => log(`  ${line}`) });
    log("Waiting until the system is quiet...");
    await waitUntilQuiet(kafka, admin, cloudant, {
      timeoutMs: options.quietTimeoutMs ?? 180_000,
      log,
      coverage: env.KAFKA_FEED !== "lossless",
    });
    const report = await sagaReport(kafka, cloudant, options.expectedDeadLetters ?? 0);
    return { simulation: simulated, report };
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
}
