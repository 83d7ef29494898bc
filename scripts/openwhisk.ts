// npm run openwhisk: the local OpenWhisk in the foreground until Ctrl-C, with its built-in feeds, and .stack/wskprops
// (APIHOST, AUTH, NAMESPACE) for the clients: WSK_CONFIG_FILE=.stack/wskprops, or OW_APIHOST and OW_AUTH. The
// lossless feed is built in when there is a store for its registrations: CLOUDANT_URL, or the running stack's.
import { resolve } from "node:path";
import { createCloudant } from "../lib/store/client.ts";
import { storeSettingsFromEnv } from "../lib/store/config.ts";
import { defaultProviders } from "../local/feeds/index.ts";
import type { BuiltinProvider } from "../local/server.ts";
import { startLocalOpenWhisk } from "../local/server.ts";
import { LosslessFeedProvider } from "../triggers/lossless/provider.ts";
import { registrationsKey } from "../triggers/lossless/sealed-key.ts";
import { useRunningStack } from "./stack/lifecycle.ts";
import { stackLosslessFeedKey } from "./stack/secrets.ts";

useRunningStack("openwhisk");
const log = (line: string) => console.log(line);
const store = storeSettingsFromEnv();
const providers: BuiltinProvider[] = [
  ...defaultProviders(),
  ...(store
    ? [
        new LosslessFeedProvider({
          cloudant: createCloudant(store),
          registrationsKey: registrationsKey(
            process.env.LOSSLESS_FEED_KEY || stackLosslessFeedKey(),
            "LOSSLESS_FEED_KEY",
          ),
          log,
        }),
      ]
    : []),
];
const wskpropsPath = resolve(process.env.LOCAL_OW_WSKPROPS ?? ".stack/wskprops");
const ow = await startLocalOpenWhisk({ wskpropsPath, log }, providers);
console.log(`local OpenWhisk: ${ow.apiHost} (namespace ${ow.namespace}); credentials in ${wskpropsPath}`);
console.log(
  `built-in feeds: /whisk.system/messaging/kafkaFeed and messageHubFeed, /whisk.system/alarms/alarm, interval and once${
    store
      ? `, /whisk.system/lossless/kafkaFeed (registrations in ${store.url})`
      : "; not the lossless feed: no store for its registrations (start the stack, or set CLOUDANT_URL)"
  }`,
);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await ow.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
