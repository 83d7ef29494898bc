// The whole system on the local stack: build the actions, create topics, databases and indexes, start the local
// OpenWhisk, deploy serverless.yml (the Composer compositions included) to it. Used by `npm start`, the end-to-end tests and the saga benchmark.

import { readFileSync } from "node:fs";
import { provisionSaga } from "../../functions/resources.ts";
import { createKafka } from "../../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../../lib/kafka/config.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";
import type { LocalLimits } from "../../local/config.ts";
import { defaultProviders } from "../../local/feeds/index.ts";
import { type LocalOpenWhisk, startLocalOpenWhisk } from "../../local/server.ts";
import { LosslessFeedProvider } from "../../triggers/lossless/provider.ts";
import { registrationsKey } from "../../triggers/lossless/sealed-key.ts";
import { buildActions } from "../build.ts";
import { openWhiskKeystore } from "../stack/certificates.ts";
import { stackDir } from "../stack/paths.ts";
import { stackLosslessFeedKey, stackOperatorSecret } from "../stack/secrets.ts";
import { serverless } from "./deploy.ts";

export interface SystemOptions {
  /** Where the stack's services are: KAFKA_BROKERS, CLOUDANT_URL (and their credentials). */
  env: Record<string, string>;
  port?: number;
  wskpropsPath?: string;
  /** Bound at deploy time (serverless.yml): the saga's policies. */
  policies?: {
    workorderDeadlineMs?: number;
    stockDefault?: number;
    crewsCapacityPerDay?: number;
    relayCron?: string;
    deadlineCron?: string;
    restockQuantity?: number;
    restockCron?: string;
    relayGapGraceMs?: number;
    chaosExitAfterWrite?: number;
  };
  /** The feed's batch window; OpenWhisk's provider polls for about 2 s. */
  kafkaBatchMs?: number;
  /** Serve the local OpenWhisk over HTTPS, as a real deployment's API host is, with a certificate made in .stack/. */
  https?: boolean;
  /** Limits other than the system's raised ones: upstream's defaults, to meet its throttles. */
  limits?: Partial<LocalLimits>;

  log?: (line: string) => void;
  /** Where the local OpenWhisk's own messages go (a disabled trigger, a skipped batch); default nowhere. */
  platformLog?: (line: string) => void;
}

/**
 * OpenWhisk standalone allows 60 invocations and 60 trigger fires a minute, and 30 concurrent activations; a fleet
 * of pumps needs more, as it would on a real deployment's raised limits.
 */
export const SYSTEM_LIMITS: Partial<LocalLimits> = {
  invokesPerMinute: 100_000,
  firesPerMinute: 100_000,
  concurrent: 64,
};

/**
 * Warm containers kept for the saga's actions. The lossless feed fires every partition of a trigger side by side, so
 * each step wants a container per partition; with fewer, warm containers are evicted and started again (1 to 3 s of
 * CPU each on 2 cores). OpenWhisk sizes this pool by the invoker's memory: 48 × 256 MB is a 12 GB invoker.
 */
export const SYSTEM_CONTAINERS = 48;

export interface RunningSystem {
  ow: LocalOpenWhisk;
  /** What the operator's web actions require in X-Require-Whisk-Auth: OPERATOR_WEB_SECRET, else the stack's own. */
  operatorSecret: string;
  /** Over HTTPS: the local OpenWhisk's certificate, PEM, for clients to trust. */
  certificate?: string;
  stop: () => Promise<void>;
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const log = options.log ?? console.log;
  log("Building the actions...");
  await buildActions((line) => log(`  ${line}`));

  log("Creating topics, databases and indexes...");
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(options.env)));
  const kafka = createKafka(requireKafkaSettings(kafkaSettingsFromEnv(options.env, "system")));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await provisionSaga(admin, cloudant);
  } finally {
    await admin.disconnect();
  }

  const keystore = options.https ? openWhiskKeystore(stackDir) : undefined;
  const ow = await startLocalOpenWhisk(
    {
      port: options.port ?? 0,
      wskpropsPath: options.wskpropsPath,
      limits: { ...SYSTEM_LIMITS, ...options.limits },
      ...(keystore
        ? {
            tls: {
              pfx: readFileSync(keystore.file),
              passphrase: keystore.password,
              certificate: readFileSync(keystore.certificate, "utf8"),
            },
          }
        : {}),
      maxContainers: Number(options.env.LOCAL_OW_MAX_CONTAINERS) || SYSTEM_CONTAINERS,
      log: options.platformLog ?? (() => undefined),
    },
    [
      ...defaultProviders({
        ...(options.kafkaBatchMs
          ? { kafkaBatchMs: options.kafkaBatchMs, kafkaPollMs: Math.min(1000, options.kafkaBatchMs) }
          : {}),
        // The platform's feed provider trusts what the clients are told to trust (a local broker's certificate).
        ...(options.env.KAFKA_CA ? { kafkaCa: options.env.KAFKA_CA } : {}),
      }),
      // KAFKA_FEED=lossless in env deploys the triggers on it: this project's feed, which commits after success.
      new LosslessFeedProvider({
        cloudant,
        registrationsKey: registrationsKey(
          options.env.LOSSLESS_FEED_KEY || stackLosslessFeedKey(),
          "LOSSLESS_FEED_KEY",
        ),
        log: options.platformLog ?? (() => undefined),
      }),
    ],
  );
  log(`Local OpenWhisk on ${ow.apiHost}`);
  const operatorSecret = options.env.OPERATOR_WEB_SECRET || stackOperatorSecret();
  try {
    log("serverless deploy...");
    const policies = options.policies ?? {};
    const settings: Record<string, string> = {
      OPERATOR_WEB_SECRET: operatorSecret,
      ...options.env,
      ...(policies.workorderDeadlineMs ? { WORKORDER_DEADLINE_MS: String(policies.workorderDeadlineMs) } : {}),
      ...(policies.stockDefault ? { STOCK_DEFAULT: String(policies.stockDefault) } : {}),
      ...(policies.crewsCapacityPerDay ? { CREWS_CAPACITY_PER_DAY: String(policies.crewsCapacityPerDay) } : {}),
      ...(policies.relayCron ? { RELAY_CRON: policies.relayCron } : {}),
      ...(policies.deadlineCron ? { DEADLINE_CRON: policies.deadlineCron } : {}),
      ...(policies.restockQuantity !== undefined ? { RESTOCK_QUANTITY: String(policies.restockQuantity) } : {}),
      ...(policies.restockCron ? { RESTOCK_CRON: policies.restockCron } : {}),
      ...(policies.relayGapGraceMs ? { RELAY_GAP_GRACE_MS: String(policies.relayGapGraceMs) } : {}),
      ...(policies.chaosExitAfterWrite ? { CHAOS_EXIT_AFTER_WRITE: String(policies.chaosExitAfterWrite) } : {}),
    };
    // Over HTTPS, serverless trusts the local certificate as any Node process does: NODE_EXTRA_CA_CERTS.
    const trust: Record<string, string> = keystore ? { NODE_EXTRA_CA_CERTS: keystore.certificate } : {};
    await serverless("deploy", { apiHost: ow.apiHost, auth: ow.auth }, { ...settings, ...trust }, log);
  } catch (err) {
    await ow.stop();
    throw err;
  }
  return {
    ow,
    operatorSecret,
    ...(keystore ? { certificate: readFileSync(keystore.certificate, "utf8") } : {}),
    stop: () => ow.stop(),
  };
}
