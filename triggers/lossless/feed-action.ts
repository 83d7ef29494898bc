// The lossless feed action for a real OpenWhisk: the same lifecycle as the local OpenWhisk's built-in, as an action
// (`npm run feed-provider -- install` bundles it and creates it in a package, annotated as a feed). The
// registrations' store is bound to the package (cloudant_url and its credentials; registrations_db).
import { createKafka } from "../../lib/kafka/client.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromParams } from "../../lib/store/config.ts";
import { losslessLifecycle } from "./lifecycle.ts";
import { Registrations } from "./registrations.ts";

const STORE_KEYS = ["cloudant_url", "cloudant_apikey", "cloudant_username", "cloudant_password", "cloudant_iam_url"];

export async function main(params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const store = requireStoreSettings(storeSettingsFromParams(params), "cloudant_url (bound to the feed's package)");
  const db =
    typeof params.registrations_db === "string" && params.registrations_db ? params.registrations_db : undefined;
  const registrations = new Registrations(createCloudant(store), db);
  await registrations.ensure();
  // The package's settings are the feed's, not the trigger's.
  const request = Object.fromEntries(
    Object.entries(params).filter(([key]) => !STORE_KEYS.includes(key) && key !== "registrations_db"),
  );
  return losslessLifecycle(request, {
    registrations,
    kafka: (brokers) => createKafka({ brokers, clientId: "lossless-feed-action", ssl: false }),
    apiHost: process.env.__OW_API_HOST ?? "",
    namespace: process.env.__OW_NAMESPACE ?? "_",
    log: (line) => console.log(line),
  });
}
