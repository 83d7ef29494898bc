// The local system's own secrets, made once in .stack/ (mode 0600) and kept, so that a command run against the
// system later finds them where `npm start` said they are. A real deployment sets its own in the environment.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackDir } from "./paths.ts";

function kept(file: string, make: () => string, good: (value: string) => boolean): string {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const value = readFileSync(file, "utf8").trim();
    if (good(value)) return value;
  }
  mkdirSync(stackDir, { recursive: true });
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** What the operator's web actions require in X-Require-Whisk-Auth (OPERATOR_WEB_SECRET of a real deployment). */
export const operatorSecretFile = join(stackDir, "operator-web-secret");

export const stackOperatorSecret = () =>
  kept(
    operatorSecretFile,
    () => randomBytes(24).toString("base64url"),
    (value) => value.length >= 16,
  );

/** The key that seals trigger owners' keys in the lossless feed's registrations (LOSSLESS_FEED_KEY elsewhere). */
export const losslessFeedKeyFile = join(stackDir, "lossless-feed-key");

export const stackLosslessFeedKey = () =>
  kept(
    losslessFeedKeyFile,
    () => randomBytes(32).toString("base64"),
    (value) => Buffer.from(value, "base64").length === 32,
  );
