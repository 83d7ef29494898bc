// npm run provision [-- --dry-run]: makes the Kafka named by KAFKA_BROKERS and the store named by CLOUDANT_URL (with
// their credentials) hold what the system needs: topics, databases, indexes, the coverage audit's start. Without
// those settings it provisions the local stack, when one is running. Prints each thing it found or changed; a second
// run changes nothing. --dry-run reads and says what it would change.
import { parseArgs } from "node:util";
import { provisionSaga } from "../functions/provision.ts";
import { ConfigError } from "../lib/config/settings.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv } from "../lib/kafka/config.ts";
import type { Change } from "../lib/provision.ts";
import { ProvisionError } from "../lib/provision.ts";
import { createCloudant } from "../lib/store/client.ts";
import { storeSettingsFromEnv } from "../lib/store/config.ts";
import { clientEnv, readState } from "./stack/stack.ts";

const USAGE = "usage: npm run provision -- [--dry-run]   (KAFKA_BROKERS and CLOUDANT_URL name the target)";

function line(change: Change): string {
  return `${change.kind.padEnd(12)} ${change.what.padEnd(15)} ${change.name}${change.detail ? `  (${change.detail})` : ""}`;
}

async function main(): Promise<number> {
  let dryRun: boolean;
  try {
    const { values } = parseArgs({
      options: { "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    dryRun = values["dry-run"] === true;
  } catch (err) {
    console.error(`provision: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
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

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A missing permission or a wrong setting is one line; anything else keeps its stack for a bug report.
    const known = err instanceof ProvisionError || err instanceof ConfigError;
    console.error(`provision: ${known || !(err instanceof Error) ? String((err as Error).message ?? err) : err.stack}`);
    process.exit(1);
  },
);
