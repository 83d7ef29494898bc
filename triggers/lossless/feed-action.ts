// The lossless feed action for a real OpenWhisk: the same lifecycle as the local OpenWhisk's built-in, as an action
// (`npm run feed-provider -- install` bundles it and creates it in a package, annotated as a feed and final). Bound to
// the package: the registrations' store (cloudant_url and its credentials; registrations_db), the key that seals the
// registrations' secrets (registrations_key), and how to trust the API host (api_ca, a PEM; or ignore_certs).
import { STORE_PARAMETERS } from "../../lib/config/parameters.ts";
import { readBoolean } from "../../lib/config/settings.ts";
import { createKafka } from "../../lib/kafka/client.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromParams } from "../../lib/store/config.ts";
import { losslessLifecycle } from "./lifecycle.ts";
import { Registrations } from "./registrations.ts";
import { openKey, registrationsKey, sealKey } from "./sealed-key.ts";

/** The package's settings: the feed's own, never the trigger's. */
export const FEED_PACKAGE_SETTINGS = [
  ...Object.values(STORE_PARAMETERS),
  "registrations_db",
  "registrations_key",
  "api_ca",
  "ignore_certs",
];

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
  const request = Object.fromEntries(Object.entries(params).filter(([name]) => !FEED_PACKAGE_SETTINGS.includes(name)));
  const api = {
    url: process.env.__OW_API_HOST ?? "",
    ...(typeof params.api_ca === "string" && params.api_ca ? { ca: params.api_ca } : {}),
    ...(readBoolean(params, "ignore_certs") ? { ignoreCerts: true } : {}),
  };
  return losslessLifecycle(request, {
    registrations,
    kafka: (settings) => createKafka(settings),
    api,
    namespace: process.env.__OW_NAMESPACE ?? "_",
    seal: (secrets, trigger) => sealKey(secrets, { trigger, apiHost: api.url }, key),
    open: (sealed, trigger) => openKey(sealed, { trigger, apiHost: api.url }, key),
    log: (line) => console.log(line),
  });
}
