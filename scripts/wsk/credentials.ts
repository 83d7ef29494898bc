// Where `wsk` sends its calls, and with which key. In order: --apihost / --auth; the environment (__OW_API_HOST and
// __OW_API_KEY, or OW_APIHOST and OW_AUTH); the local OpenWhisk when it answers (its .stack/wskprops, or
// WSK_LOCAL_PROPS); then
// WSK_CONFIG_FILE or ~/.wskprops, as the real wsk reads them.
import { existsSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { SagaError } from "../../lib/errors.ts";
import { stackDir } from "../stack/paths.ts";

export class NoCredentials extends SagaError {
  override name = "NoCredentials";
}

export interface Target {
  apihost: string;
  auth: string;
  namespace: string;
  /** The local OpenWhisk over HTTPS: its certificate, to trust (.stack/tls/openwhisk.pem). */
  ca?: string;
  /** Where the API host came from, named on stderr. */
  from: string;
}

type Props = { APIHOST?: string; AUTH?: string; NAMESPACE?: string; CA?: string };

export function readProps(file: string): Props {
  const props: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) props[line.slice(0, at).trim().toUpperCase()] = line.slice(at + 1).trim();
  }
  return props;
}

/** wsk's API host may be given without a scheme: it then means https. */
export const withScheme = (host: string) => (/^https?:\/\//.test(host) ? host : `https://${host}`);

/** The local OpenWhisk's certificate, when it serves HTTPS (npm start -- --https). */
const localCertificate = join(stackDir, "tls", "openwhisk.pem");

/** Whether the API host answers /api/v1 within 1.5 s, trusting `ca` over HTTPS. */
function answers(apihost: string, ca?: string): Promise<boolean> {
  const url = new URL("/api/v1", withScheme(apihost));
  const get = url.protocol === "https:" ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1_500, ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

export async function findTarget(flags: { apihost?: string; auth?: string }): Promise<Target> {
  const env = process.env;
  // Each setting comes from the first source that has it; the API host names the target.
  const found: Props = {};
  const sources: { from: string; props: () => Props | Promise<Props | undefined> | undefined }[] = [
    { from: "--apihost/--auth", props: () => ({ APIHOST: flags.apihost, AUTH: flags.auth }) },
    {
      from: "the environment",
      props: () => ({
        APIHOST: env.__OW_API_HOST ?? env.OW_APIHOST,
        AUTH: env.__OW_API_KEY ?? env.OW_AUTH,
        NAMESPACE: env.__OW_NAMESPACE ?? env.OW_NAMESPACE,
      }),
    },
    {
      from: "the local OpenWhisk (.stack/wskprops)",
      // All or nothing: its key never goes to another API host.
      props: async () => {
        const file = env.WSK_LOCAL_PROPS ?? join(stackDir, "wskprops");
        if (found.APIHOST || !existsSync(file)) return undefined;
        const props = readProps(file);
        const ca =
          props.APIHOST?.startsWith("https:") && existsSync(localCertificate)
            ? readFileSync(localCertificate, "utf8")
            : undefined;
        if (ca) found.CA = ca;
        return props.APIHOST && (await answers(props.APIHOST, ca)) ? props : undefined;
      },
    },
    {
      from: env.WSK_CONFIG_FILE ?? "~/.wskprops",
      props: () => {
        const file = env.WSK_CONFIG_FILE ?? join(homedir(), ".wskprops");
        return existsSync(file) ? readProps(file) : undefined;
      },
    },
  ];
  let from = "";
  for (const source of sources) {
    const props = await source.props();
    if (!props) continue;
    if (!found.APIHOST && props.APIHOST) {
      found.APIHOST = props.APIHOST;
      from = source.from;
    }
    found.AUTH ??= props.AUTH || undefined;
    found.NAMESPACE ??= props.NAMESPACE || undefined;
    if (found.APIHOST && found.AUTH) break;
  }
  if (!found.APIHOST || !found.AUTH) {
    throw new NoCredentials(
      `no ${found.APIHOST ? "auth key" : "API host"}: start the local OpenWhisk (npm start), or give --apihost and --auth, or set them in ~/.wskprops`,
    );
  }
  return {
    apihost: withScheme(found.APIHOST),
    auth: found.AUTH,
    namespace: found.NAMESPACE ?? "_",
    from,
    ...(found.CA && from.startsWith("the local OpenWhisk") ? { ca: found.CA } : {}),
  };
}
