import { SagaError } from "../errors.ts";
/** A setting that is missing or wrong. The message is one line that names the setting and what is expected. */
export class ConfigError extends SagaError {
  override name = "ConfigError";
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

/** Where settings come from: the process environment, or an action's parameters bound at deploy time. */
export type SettingsSource = Record<string, unknown>;

export function readString(source: SettingsSource, name: string): string | undefined {
  const value = source[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new ConfigError(name, `expected a string, got ${typeof value}`);
  return value.trim();
}

export function requireString(source: SettingsSource, name: string, hint: string): string {
  const value = readString(source, name);
  if (value === undefined) throw new ConfigError(name, `missing; ${hint}`);
  return value;
}

export function readBoolean(source: SettingsSource, name: string): boolean | undefined {
  const value = source[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|1|yes)$/i.test(value)) return true;
  if (typeof value === "string" && /^(false|0|no)$/i.test(value)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(value)}`);
}

/** A non-negative number from the environment, or the fallback when unset; anything else is a ConfigError. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, `expected a non-negative number, got "${raw}"`);
  return value;
}
