// npm run openwhisk: runs the local OpenWhisk in the foreground until Ctrl-C, and writes .stack/wskprops
// (APIHOST, AUTH, NAMESPACE) for the clients: WSK_CONFIG_FILE=.stack/wskprops, or OW_APIHOST and OW_AUTH.
import { resolve } from "node:path";
import { defaultProviders } from "../triggers/index.ts";
import { startLocalOpenWhisk } from "./server.ts";

const wskpropsPath = resolve(process.env.LOCAL_OW_WSKPROPS ?? ".stack/wskprops");
const ow = await startLocalOpenWhisk({ wskpropsPath, log: (line) => console.log(line) }, defaultProviders());
console.log(`local OpenWhisk: ${ow.apiHost} (namespace ${ow.namespace}); credentials in ${wskpropsPath}`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await ow.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
