// The local broker as IBM Event Streams presents itself: a SASL_SSL listener (PLAIN, user "token", an API key) with a
// certificate of its own, and the admin REST API's GET /admin/topics that messageHubFeed asks before it creates a
// trigger. The key, the keystore and its password are made once per machine in .stack/kafka/tls (git-ignored); they
// are handed to clients through the environment, never printed.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { selfSignedKeystore } from "./certificates.ts";
import { repoRoot, stackDir } from "./paths.ts";
import { startDetached, waitUntilReady } from "./processes.ts";

const tlsDir = join(stackDir, "kafka", "tls");
const keystore = join(tlsDir, "broker.p12");
const certificate = join(tlsDir, "broker.pem");
const secretsFile = join(tlsDir, "secrets.json");

export interface EventStreamsSecrets {
  /** The SASL PLAIN password of user "token", and the admin API's token. */
  apiKey: string;
  keystorePassword: string;
}

export const EVENT_STREAMS_USER = "token";

/** The certificate and the credentials, made on first use. */
export function eventStreamsSecrets(): EventStreamsSecrets {
  if (existsSync(secretsFile) && existsSync(keystore) && existsSync(certificate))
    return JSON.parse(readFileSync(secretsFile, "utf8")) as EventStreamsSecrets;
  mkdirSync(tlsDir, { recursive: true });
  const secrets = { apiKey: randomBytes(24).toString("base64url"), keystorePassword: randomBytes(18).toString("hex") };
  selfSignedKeystore(tlsDir, "broker", secrets.keystorePassword);
  writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/** The broker's certificate (PEM), for clients to trust. */
export const eventStreamsCertificate = () => readFileSync(certificate, "utf8");

/** The broker settings of the SASL_SSL listener (its address is in the broker's listeners). */
export function saslListenerProperties(secrets: EventStreamsSecrets): Record<string, string> {
  return {
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_ssl.plain.sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required user_${EVENT_STREAMS_USER}="${secrets.apiKey}";`,
    "ssl.keystore.type": "PKCS12",
    "ssl.keystore.location": keystore,
    "ssl.keystore.password": secrets.keystorePassword,
    "ssl.key.password": secrets.keystorePassword,
  };
}

export const eventStreamsAdminLogFile = join(stackDir, "kafka", "admin-api.log");

/** Starts the admin REST API process; resolves with its pid once it answers. */
export async function startEventStreamsAdmin(port: number, plaintextBroker: string): Promise<number> {
  const entry = join(repoRoot, "scripts/stack/event-streams-admin-server.ts");
  const args = ["--import", "tsx", entry, String(port), plaintextBroker];
  const pid = startDetached(process.execPath, args, eventStreamsAdminLogFile, { cwd: repoRoot });
  await waitUntilReady({
    what: `the Event Streams admin API on 127.0.0.1:${port}`,
    pid,
    logFile: eventStreamsAdminLogFile,
    timeoutMs: 60_000,
    ready: async () => (await fetch(`http://127.0.0.1:${port}/admin/topics`).catch(() => undefined))?.status === 403,
  });
  return pid;
}
