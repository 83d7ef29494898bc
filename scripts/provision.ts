// npm run provision [-- --dry-run]: makes the Kafka named by KAFKA_BROKERS and the store named by CLOUDANT_URL (with
// their credentials) hold what the system needs: topics, databases, indexes, the coverage audit's start. Without
// those settings it provisions the local stack, when one is running. Prints each thing it found or changed; a second
// run changes nothing. --dry-run reads and says what it would change.
import { provisionSaga } from "../functions/resources.ts";
import { ConfigError } from "../lib/config/settings.ts";
import { describeError } from "../lib/errors.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv } from "../lib/kafka/config.ts";
import type { Change } from "../lib/provisioner.ts";
import { ProvisionError } from "../lib/provisioner.ts";
import { createCloudant } from "../lib/store/client.ts";
import { storeSettingsFromEnv } from "../lib/store/config.ts";
import { commandLine, runCommand, usageAsked } from "./cli.ts";
import { clientEnv, readState } from "./stack/lifecycle.ts";

const USAGE = "usage: npm run provision -- [--dry-run]   (KAFKA_BROKERS and CLOUDANT_URL name the target)";

function line(change: Change): string {
  return `${change.kind.padEnd(12)} ${change.what.padEnd(15)} ${change.name}${change.detail ? `  (${change.detail})` : ""}`;
}

async function main(): Promise<number> {
  const parsed = commandLine(process.argv.slice(2), { "dry-run": { type: "boolean" } });
  if (!parsed) return usageAsked(USAGE);
  const dryRun = parsed.values["dry-run"] === true;
  // Without settings, the local stack if it runs: the same place `npm run stack -- up` printed.
  const state = readState();
  const env = { ...(state ? clientEnv(state) : {}), ...process.env };
  const kafkaSettings = kafkaSettingsFromEnv(env, "provision");
  const storeSettings = storeSettingsFromEnv(env);
  if (!kafkaSettings || !storeSettings) {
    console.error(
      "provision: KAFKA_BROKERS and CLOUDANT_URL must name the target (or start the stack: npm run stack -- up)",
    );
    return 2;
  }
  console.log(
    `provision${dryRun ? " (dry run: nothing is changed)" : ""}: Kafka ${kafkaSettings.brokers.join(",")}, store ${storeSettings.url}`,
  );
  const admin = createKafka(kafkaSettings).admin();
  await admin.connect();
  try {
    const changes = await provisionSaga(admin, createCloudant(storeSettings), {
      dryRun,
      log: (change) => console.log(`  ${line(change)}`),
    });
    const changed = changes.filter((c) => c.kind !== "unchanged").length;
    console.log(
      dryRun
        ? `${changed} change(s) would be made`
        : `${changed} change(s) made; ${changes.length - changed} already in place`,
    );
    return 0;
  } finally {
    await admin.disconnect();
  }
}

// A missing permission or a wrong setting is one line; anything else keeps its stack for a bug report.
runCommand("provision", USAGE, main, (err) =>
  err instanceof ProvisionError || err instanceof ConfigError || !(err instanceof Error)
    ? describeError(err)
    : String(err.stack),
);
