// npm run feed-provider: one instance of the lossless Kafka feed's provider, in the foreground until a signal. Run
// as many as you like, anywhere that reaches Kafka, the registrations' store and OpenWhisk's API: they share the
// triggers' partitions. The store comes from CLOUDANT_URL (and its credentials), or the running stack's.
//   LOSSLESS_FEED_DB (default lossless-feed-triggers), LOSSLESS_FEED_MAX_IN_FLIGHT, LOSSLESS_FEED_FOLLOW_TIMEOUT_MS,
//   LOSSLESS_FEED_RETRY_BASE_MS, LOSSLESS_FEED_RETRY_MAX_MS, LOSSLESS_FEED_SYNC_MS (triggers/lossless/settings.ts)
import { createCloudant } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../lib/store/config.ts";
import { LosslessFeedProvider } from "../triggers/lossless/provider.ts";
import { useRunningStack } from "./stack/stack.ts";

async function main(): Promise<void> {
  useRunningStack("feed-provider");
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(), "CLOUDANT_URL"));
  const provider = new LosslessFeedProvider({
    cloudant,
    db: process.env.LOSSLESS_FEED_DB,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  const stop = async () => {
    await provider.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  await provider.start();
  console.log(`lossless feed provider ${process.pid}: consuming for the registrations in ${provider.registrations.db}`);
}

main().catch((err: unknown) => {
  console.error(`feed-provider: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
