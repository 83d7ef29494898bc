// The operator's web secret of the local system: made once in .stack/ (mode 0600) and kept, so that a command run
// against the system later finds it where `npm start` said it is. A real deployment sets OPERATOR_WEB_SECRET itself.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackDir } from "./paths.ts";

export const operatorSecretFile = join(stackDir, "operator-web-secret");

export function stackOperatorSecret(): string {
  if (existsSync(operatorSecretFile)) {
    chmodSync(operatorSecretFile, 0o600);
    const kept = readFileSync(operatorSecretFile, "utf8").trim();
    if (kept.length >= 16) return kept;
  }
  mkdirSync(stackDir, { recursive: true });
  const secret = randomBytes(24).toString("base64url");
  writeFileSync(operatorSecretFile, `${secret}\n`, { mode: 0o600 });
  return secret;
}
