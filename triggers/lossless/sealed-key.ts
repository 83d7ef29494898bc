// A registration's secrets (the trigger owner's key, the Kafka SASL password) as the store keeps them: sealed with
// AES-256-GCM under a key only the providers and the feed action are given, and bound to the trigger and the API host
// it was registered for. Whoever reads the store learns nothing of them; a registration edited to name another
// trigger or another API host no longer opens.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError } from "../../lib/config/settings.ts";
import { SagaError } from "../../lib/errors.ts";

/** What a registration keeps sealed. */
export interface TriggerSecrets {
  authKey: string;
  kafkaPassword?: string;
}

export interface SealedKey {
  alg: "A256GCM";
  iv: string;
  tag: string;
  data: string;
}

/** What a sealed key belongs to: it opens only for the same trigger on the same API host. */
export interface KeyBinding {
  trigger: string;
  apiHost: string;
}

export class SealBroken extends SagaError {
  override name = "SealBroken";
}

const aad = (binding: KeyBinding) => Buffer.from(JSON.stringify([binding.trigger, binding.apiHost]));

export function sealKey(secrets: TriggerSecrets, binding: KeyBinding, key: Buffer): SealedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(binding));
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
  return {
    alg: "A256GCM",
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

export function openKey(sealed: SealedKey, binding: KeyBinding, key: Buffer): TriggerSecrets {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"))
      .setAAD(aad(binding))
      .setAuthTag(Buffer.from(sealed.tag, "base64"));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString(
      "utf8",
    );
    return JSON.parse(text) as TriggerSecrets;
  } catch {
    throw new SealBroken(
      `the secrets of ${binding.trigger} do not open: sealed under another key, or for another trigger or API host`,
    );
  }
}

/** The registrations' key: 32 bytes, base64 (`openssl rand -base64 32`); anything else names the setting. */
export function registrationsKey(raw: string | undefined, setting: string): Buffer {
  if (raw === undefined || raw.trim() === "") {
    throw new ConfigError(
      setting,
      "missing; 32 random bytes in base64 (openssl rand -base64 32), the same for every provider and the feed action",
    );
  }
  const key = Buffer.from(raw.trim(), "base64");
  if (key.length !== 32) throw new ConfigError(setting, `expected 32 bytes in base64, got ${key.length}`);
  return key;
}
