// The lossless feed action for a real OpenWhisk: the same lifecycle as the local OpenWhisk's built-in, as an action
// (`npm run feed-provider -- install` bundles it and creates it in a package, annotated as a feed and final). The
// registrations' store (cloudant_url and its credentials; registrations_db) and the key that seals the trigger
// owners' keys (registrations_key) are bound to the package.

import { STORE_PARAMETERS } from "../../lib/config/parameters.ts";
import { createKafka } from "../../lib/kafka/client.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromParams } from "../../lib/store/config.ts";
import { losslessLifecycle } from "./lifecycle.ts";
import { Registrations } from "./registrations.ts";
import { registrationsKey, sealKey } from "./sealed-key.ts";

/** The package's settings: the feed's own, never the trigger's. */
const BOUND = [...Object.values(STORE_PARAMETERS), "registrations_db", "registrations_key"];

export async function main(params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const store = requireStoreSettings(storeSettingsFromParams(params), "cloudant_url (bound to the feed's package)");
  const db =
    typeof params.registrations_db === "string" && params.registrations_db ? params.registrations_db : undefined;
  const key = registrationsKey(
    typeof params.registrations_key === "string" ? params.registrations_key : undefined,
    "registrations_key (bound to the feed's package)",
  );
  const registrations = new Registrations(createCloudant(store), db);
  await registrations.ensure();
  const request = Object.fromEntries(Object.entries(params).filter(([key]) => !BOUND.includes(key)));
  const apiHost = process.env.__OW_API_HOST ?? "";
  return losslessLifecycle(request, {
    registrations,
    kafka: (brokers) => createKafka({ brokers, clientId: "lossless-feed-action", ssl: false }),
    apiHost,
    namespace: process.env.__OW_NAMESPACE ?? "_",
    seal: (authKey, trigger) => sealKey(authKey, { trigger, apiHost }, key),
    log: (line) => console.log(line),
  });
}
