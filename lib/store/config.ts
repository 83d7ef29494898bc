// Cloudant (or any CouchDB-compatible server) connection settings, from the environment or from action parameters.
import { STORE_PARAMETERS } from "../config/parameters.ts";
import { ConfigError, readString, type SettingsSource } from "../config/settings.ts";

export type StoreAuth =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | { kind: "iam"; apiKey: string; iamUrl?: string };

export interface StoreSettings {
  /** Service URL without credentials, so it can be logged. */
  url: string;
  auth: StoreAuth;
}

interface SettingNames {
  url: string;
  apiKey: string;
  username: string;
  password: string;
  iamUrl: string;
}

function settingsFrom(source: SettingsSource, names: SettingNames): StoreSettings | undefined {
  const rawUrl = readString(source, names.url);
  if (rawUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(names.url, "is not a URL; expected http(s)://host[:port]");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(names.url, `protocol ${url.protocol} is not http: or https:`);
  }
  // Credentials written into the URL are taken as basic auth, then removed so the URL can appear in logs.
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const cleanUrl = url.toString().replace(/\/$/, "");

  const apiKey = readString(source, names.apiKey);
  const username = readString(source, names.username) ?? (urlUser || undefined);
  const password = readString(source, names.password) ?? (urlPassword || undefined);
  if (apiKey !== undefined && username !== undefined) {
    throw new ConfigError(
      names.apiKey,
      `set either ${names.apiKey} (IAM) or ${names.username}/${names.password} (basic), not both`,
    );
  }
  if (apiKey !== undefined)
    return { url: cleanUrl, auth: { kind: "iam", apiKey, iamUrl: readString(source, names.iamUrl) } };
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      username === undefined ? names.username : names.password,
      "missing; basic auth needs both a user name and a password",
    );
  }
  if (username !== undefined && password !== undefined)
    return { url: cleanUrl, auth: { kind: "basic", username, password } };
  return { url: cleanUrl, auth: { kind: "none" } };
}

/** CLOUDANT_URL with CLOUDANT_APIKEY (IAM) or CLOUDANT_USERNAME + CLOUDANT_PASSWORD (basic), or neither (no auth). */
export function storeSettingsFromEnv(env: SettingsSource = process.env): StoreSettings | undefined {
  return settingsFrom(env, {
    url: "CLOUDANT_URL",
    apiKey: "CLOUDANT_APIKEY",
    username: "CLOUDANT_USERNAME",
    password: "CLOUDANT_PASSWORD",
    iamUrl: "CLOUDANT_IAM_URL",
  });
}

/** Action parameters bound at deploy time: cloudant_url, cloudant_apikey, cloudant_username, cloudant_password. */
export function storeSettingsFromParams(params: SettingsSource): StoreSettings | undefined {
  return settingsFrom(params, STORE_PARAMETERS);
}

export function requireStoreSettings(settings: StoreSettings | undefined, setting = "CLOUDANT_URL"): StoreSettings {
  if (!settings)
    throw new ConfigError(setting, "missing; set it to the Cloudant or CouchDB URL, or start the local stack");
  return settings;
}
