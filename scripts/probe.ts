// npm run probe: calls every web action of the running local system as a stranger would (scripts/probe/exposure.ts)
// and prints each unsafe answer, then "N of M checks failed". Exit 1 when any failed. The local OpenWhisk, its key
// and the operator's secret are found in .stack/ (npm start writes them).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { probeExposure } from "./probe/exposure.ts";
import { eventStreamsSecrets } from "./stack/event-streams.ts";
import { stackDir } from "./stack/paths.ts";
import { operatorSecretFile } from "./stack/secrets.ts";
import { readProps } from "./wsk/credentials.ts";

async function main(): Promise<number> {
  const propsFile = join(stackDir, "wskprops");
  if (!existsSync(propsFile)) {
    console.error(`probe: ${propsFile} is missing: start the system first (npm start)`);
    return 2;
  }
  const props = readProps(propsFile);
  if (!props.APIHOST || !props.AUTH) {
    console.error(`probe: ${propsFile} names no APIHOST and AUTH`);
    return 2;
  }
  const operatorSecret = existsSync(operatorSecretFile) ? readFileSync(operatorSecretFile, "utf8").trim() : "";
  const secrets = [props.AUTH, ...props.AUTH.split(":"), eventStreamsSecrets().apiKey];
  const checks = await probeExposure({
    apiHost: props.APIHOST,
    namespace: props.NAMESPACE ?? "guest",
    operatorSecret,
    secrets,
  });
  const failed = checks.filter((c) => !c.ok);
  for (const c of failed) console.log(`FAIL ${c.action}: ${c.what}: ${c.detail ?? ""}`);
  console.log(`${failed.length} of ${checks.length} checks failed`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`probe: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  },
);
