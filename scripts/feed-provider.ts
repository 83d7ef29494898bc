// npm run feed-provider: one instance of the lossless Kafka feed's provider, in the foreground until a signal. Run
// as many as you like, anywhere that reaches Kafka, the registrations' store and OpenWhisk's API: they share the
// triggers' partitions. The store comes from CLOUDANT_URL (and its credentials), or the running stack's.
// LOSSLESS_FEED_KEY (32 bytes, base64; the running stack's when it has one) seals the trigger owners' keys in the
// registrations; LOSSLESS_FEED_API_HOST (default: the API host wsk's settings name) is the only OpenWhisk served,
// over HTTPS trusting LOSSLESS_FEED_CA (a PEM file) besides the system's certificates, or with
// LOSSLESS_FEED_IGNORE_CERTS=true any certificate (a self-signed API host whose certificate you do not have).
// npm run feed-provider -- install [PACKAGE]: bundles the feed action and creates it as PACKAGE/kafkaFeed (default
// lossless, annotated final) in the OpenWhisk that wsk's settings name, with the store and the key bound to the
// package. Install it in the namespace of the triggers, unshared: its package holds the store's credentials.
//   LOSSLESS_FEED_DB (default lossless-feed-triggers), LOSSLESS_FEED_MAX_IN_FLIGHT, LOSSLESS_FEED_FOLLOW_TIMEOUT_MS,
//   LOSSLESS_FEED_RETRY_BASE_MS, LOSSLESS_FEED_RETRY_MAX_MS, LOSSLESS_FEED_SYNC_MS (triggers/lossless/lossless-settings.ts)
import { existsSync, readFileSync } from "node:fs";
import { readBoolean } from "../lib/config/settings.ts";
import { createCloudant } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../lib/store/config.ts";
import { FEED_PACKAGE_SETTINGS } from "../triggers/lossless/feed-action.ts";
import { LosslessFeedProvider } from "../triggers/lossless/provider.ts";
import { registrationsKey } from "../triggers/lossless/sealed-key.ts";
import { NODE_BUNDLE } from "./node-bundle.ts";
import { useRunningStack } from "./stack/lifecycle.ts";
import { losslessFeedKeyFile } from "./stack/secrets.ts";
import { findTarget, withScheme } from "./wsk/credentials.ts";

/** How to trust the API host: LOSSLESS_FEED_CA (a PEM file), LOSSLESS_FEED_IGNORE_CERTS=true. */
function trust(): { ca?: string; ignoreCerts?: boolean } {
  const caFile = process.env.LOSSLESS_FEED_CA;
  return {
    ...(caFile ? { ca: readFileSync(caFile, "utf8") } : {}),
    ...(readBoolean(process.env, "LOSSLESS_FEED_IGNORE_CERTS") ? { ignoreCerts: true } : {}),
  };
}

/** LOSSLESS_FEED_KEY, or the running stack's key (the one its local OpenWhisk's built-in feed seals with). */
function feedKey(): Buffer {
  const stacks = existsSync(losslessFeedKeyFile) ? readFileSync(losslessFeedKeyFile, "utf8").trim() : undefined;
  return registrationsKey(process.env.LOSSLESS_FEED_KEY || stacks, "LOSSLESS_FEED_KEY");
}

async function install(pkg: string): Promise<void> {
  const { build } = await import("esbuild");
  const openwhisk = (await import("openwhisk")).default;
  const store = requireStoreSettings(storeSettingsFromEnv(), "CLOUDANT_URL");
  const key = feedKey();
  const bundled = await build({
    ...NODE_BUNDLE,
    entryPoints: ["triggers/lossless/feed-action.ts"],
    write: false,
  });
  const target = await findTarget({});
  console.error(`feed-provider: installing ${pkg}/kafkaFeed on ${target.apihost} (from ${target.from})`);
  const { ca, ignoreCerts } = trust();
  const ow = openwhisk({
    apihost: target.apihost,
    api_key: target.auth,
    ...(ignoreCerts ? { ignore_certs: true } : {}),
  });
  const { auth } = store;
  // Every setting the feed action reads is bound ("" when unused): the action is final, so no caller sets one.
  const values: Record<string, string | undefined> = {
    cloudant_url: store.url,
    cloudant_apikey: auth.kind === "iam" ? auth.apiKey : undefined,
    cloudant_iam_url: auth.kind === "iam" ? auth.iamUrl : undefined,
    cloudant_username: auth.kind === "basic" ? auth.username : undefined,
    cloudant_password: auth.kind === "basic" ? auth.password : undefined,
    registrations_db: process.env.LOSSLESS_FEED_DB,
    registrations_key: key.toString("base64"),
    api_ca: ca,
    ignore_certs: ignoreCerts ? "true" : undefined,
  };
  const bound = FEED_PACKAGE_SETTINGS.map((name) => ({ key: name, value: values[name] ?? "" }));
  await ow.packages.update({ name: pkg, package: { parameters: bound } as never });
  await ow.actions.update({
    name: `${pkg}/kafkaFeed`,
    action: {
      exec: { kind: "nodejs:20", code: bundled.outputFiles[0]?.text ?? "" },
      annotations: [
        { key: "feed", value: true },
        // The package's settings are the feed's: a caller may not set another store or key.
        { key: "final", value: true },
        { key: "provide-api-key", value: false },
        {
          key: "description",
          value: "Fire a trigger for a Kafka topic's records; commit only after the actions succeed",
        },
      ],
    } as never,
  });
  const namespace = target.namespace === "_" ? ((await ow.namespaces.list())[0] ?? "_") : target.namespace;
  console.log(`ok: the feed is /${namespace}/${pkg}/kafkaFeed; run npm run feed-provider beside it`);
}

async function main(): Promise<void> {
  useRunningStack("feed-provider");
  if (process.argv[2] === "install") return install(process.argv[3] ?? "lossless");
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(), "CLOUDANT_URL"));
  const key = feedKey();
  const apiHost = process.env.LOSSLESS_FEED_API_HOST || withScheme((await findTarget({})).apihost);
  const api = { url: apiHost, ...trust() };
  const provider = new LosslessFeedProvider({
    cloudant,
    registrationsKey: key,
    api,
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
  console.log(
    `lossless feed provider ${process.pid}: consuming for the registrations in ${provider.registrations.db} on ${apiHost}`,
  );
}

main().catch((err: unknown) => {
  console.error(`feed-provider: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
