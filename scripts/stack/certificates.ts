// Self-signed certificates for the local stack's TLS faces (the broker's Event Streams listener, the local
// OpenWhisk's HTTPS API), made once with the JDK's keytool, kept in .stack/ with their passwords (mode 0600). A
// keystore's password goes to keytool in its environment: on a command line, any process could read it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StackError } from "./processes.ts";

export interface Keystore {
  /** PKCS12, the certificate and its key. */
  file: string;
  password: string;
  /** The certificate alone, PEM: what clients are given to trust. */
  certificate: string;
}

function keytool(args: string[], storePassword: string): void {
  const run = spawnSync("keytool", [...args, "-storepass:env", "KEYSTORE_PASSWORD"], {
    encoding: "utf8",
    env: { ...process.env, KEYSTORE_PASSWORD: storePassword },
  });
  if (run.error || run.status !== 0)
    throw new StackError(`keytool ${args[0]} failed (it comes with the JDK): ${run.stderr || run.error?.message}`);
}

/** A certificate for 127.0.0.1 and localhost named `name` in `dir`, made on first use; its password as given. */
export function selfSignedKeystore(dir: string, name: string, password: string): Keystore {
  const keystore = { file: join(dir, `${name}.p12`), password, certificate: join(dir, `${name}.pem`) };
  if (existsSync(keystore.file) && existsSync(keystore.certificate)) return keystore;
  mkdirSync(dir, { recursive: true });
  const store = ["-keystore", keystore.file, "-storetype", "PKCS12"];
  keytool(
    [
      "-genkeypair",
      ...["-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650"],
      ...["-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost"],
      ...store,
    ],
    password,
  );
  keytool(["-exportcert", "-rfc", "-alias", name, "-file", keystore.certificate, ...store], password);
  return keystore;
}

/** The local OpenWhisk's HTTPS certificate (npm start -- --https), in .stack/tls/, with its password beside it. */
export function openWhiskKeystore(stackDir: string): Keystore {
  const dir = join(stackDir, "tls");
  const passwordFile = join(dir, "openwhisk.password");
  const password = existsSync(passwordFile)
    ? readFileSync(passwordFile, "utf8").trim()
    : randomBytes(18).toString("hex");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, password, { mode: 0o600 });
  return selfSignedKeystore(dir, "openwhisk", password);
}
