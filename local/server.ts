// The local OpenWhisk: an HTTP server on 127.0.0.1 with OpenWhisk's REST API (/api/v1), web actions, the built-in
// feed actions of whisk.system, and action containers as Node child processes. No Docker, nothing of any domain:
// local/ imports lib/ only, never functions/, triggers/ or scripts/.

import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { ConfigError } from "../lib/config/settings.ts";
import { type LocalOptionsInput, resolveOptions } from "./config.ts";
import { Controller } from "./controller.ts";
import type { BuiltinHandler } from "./entities.ts";
import { ApiError, Messages } from "./errors.ts";
import { sendError, sendJson } from "./http.ts";
import type { KeyValue } from "./key-values.ts";
import { type Identity, Platform } from "./platform.ts";
import { sameSecret } from "./secrets.ts";
import { handleWeb } from "./web.ts";

/** What a built-in provider gets of the local OpenWhisk: its API's address, actions in whisk.system, a log. */
export interface ProviderHost {
  /** http(s)://127.0.0.1:<port>, once the server listens: the providers call the public REST API, as real ones do. */
  readonly apiHost: string;
  /** Over HTTPS: the certificate to trust (the platform's own). */
  readonly ca?: string;
  registerBuiltin(pkg: string, name: string, handler: BuiltinHandler, annotations?: KeyValue[]): void;
  log(line: string): void;
}

/** Something that registers built-in actions (feeds) and runs beside the platform until stopped. */
export interface BuiltinProvider {
  register(host: ProviderHost): void;
  stop(): Promise<void>;
}

export interface LocalOpenWhisk {
  /** http://127.0.0.1:<port> */
  apiHost: string;
  port: number;
  /** uuid:key of the guest namespace */
  auth: string;
  namespace: string;
  platform: Platform;
  stop(): Promise<void>;
}

function parseAuth(header: string | undefined): string | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  return Buffer.from(header.slice(6), "base64").toString("utf8");
}

export function wskprops(apiHost: string, auth: string, namespace: string): string {
  return `APIHOST=${apiHost}\nAUTH=${auth}\nNAMESPACE=${namespace}\n`;
}

export async function startLocalOpenWhisk(
  input: LocalOptionsInput = {},
  providers: BuiltinProvider[] = [],
): Promise<LocalOpenWhisk> {
  const options = resolveOptions(input);
  const auth = options.auth ?? `${randomUUID()}:${randomBytes(32).toString("base64url")}`;
  if (!/^[^:]+:.+$/.test(auth)) throw new ConfigError("LOCAL_OW_AUTH", "the guest key must be uuid:key");
  const user: Identity = { namespace: options.namespace, subject: options.namespace, authKey: auth };
  const platform = new Platform(options);
  const controller = new Controller(platform);
  const host: ProviderHost = {
    get apiHost() {
      return platform.apiHost;
    },
    ...(options.tls ? { ca: options.tls.certificate } : {}),
    registerBuiltin: (pkg, name, handler, annotations) => platform.registerBuiltin(pkg, name, handler, annotations),
    log: options.log,
  };
  for (const provider of providers) provider.register(host);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const segments = url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
    if (segments[0] !== "api" || segments[1] !== "v1") throw new ApiError(404, Messages.resourceDoesNotExist);
    const rest = segments.slice(2);
    if (rest.length === 0) {
      sendJson(res, 200, { api_paths: ["/api/v1"], description: "OpenWhisk API (local)", runtime: "local" });
      return;
    }
    if (rest[0] === "web") {
      if (rest[1] === "whisk.system" && rest[2] === "apimgmt") {
        // The API gateway lookup serverless deploy makes: there is no gateway here, and no API.
        sendJson(res, 200, { apis: [] });
        return;
      }
      const authenticate = (header: string | undefined) => {
        const given = parseAuth(header);
        return given !== undefined && sameSecret(given, auth) ? user : undefined;
      };
      await handleWeb(
        platform,
        user,
        authenticate,
        req,
        res,
        rest.slice(1),
        url.searchParams,
        url.search.replace(/^\?/, ""),
      );
      return;
    }
    if (rest[0] !== "namespaces") throw new ApiError(404, Messages.resourceDoesNotExist);
    const given = parseAuth(req.headers.authorization);
    if (given === undefined) throw new ApiError(401, Messages.authMissing);
    if (!sameSecret(given, auth)) throw new ApiError(401, Messages.authInvalid);
    if (rest.length === 1) {
      sendJson(res, 200, [user.namespace]);
      return;
    }
    if (rest.length === 2) {
      throw new ApiError(404, Messages.resourceDoesNotExist);
    }
    await controller.handle(req, res, user, {
      namespace: rest[1]!,
      collection: rest[2]!,
      rest: rest.slice(3),
      query: url.searchParams,
    });
  };

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof ApiError)) options.log(`local OpenWhisk: ${err instanceof Error ? err.stack : err}`);
      sendError(res, err);
    });
  };
  const server = options.tls
    ? createHttpsServer({ pfx: options.tls.pfx, passphrase: options.tls.passphrase }, serve)
    : createServer(serve);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const apiHost = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  platform.apiHost = apiHost;
  if (options.wskpropsPath) {
    mkdirSync(dirname(options.wskpropsPath), { recursive: true });
    writeFileSync(options.wskpropsPath, wskprops(apiHost, auth, user.namespace), { mode: 0o600 });
  }

  let stopping: Promise<void> | undefined;
  return {
    apiHost,
    port,
    auth,
    namespace: user.namespace,
    platform,
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled(providers.map((p) => p.stop()));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await platform.stop();
        await closed;
      })();
      return stopping;
    },
  };
}
