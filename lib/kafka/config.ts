// Kafka connection settings, from the environment or from action parameters (IBM Event Streams style).
import { KAFKA_PARAMETERS } from "../config/parameters.ts";
import { ConfigError, readBoolean, readString, type SettingsSource } from "../config/settings.ts";

export type SaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

export interface KafkaSettings {
  brokers: string[];
  ssl: boolean;
  /** PEM certificates to trust for TLS besides the system's (a broker with a certificate of its own). */
  ca?: string;
  sasl?: SaslCredentials;
  clientId: string;
}

/** One member per mechanism, as KafkaJS types them. */
export type SaslCredentials = {
  [M in SaslMechanism]: { mechanism: M; username: string; password: string };
}[SaslMechanism];

const MECHANISMS: readonly SaslMechanism[] = ["plain", "scram-sha-256", "scram-sha-512"];

/** Parses "host:port,host:port" or an array of them; every entry must name a host and a valid port. */
export function parseBrokerList(setting: string, raw: unknown): string[] {
  const entries = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : undefined;
  if (!entries) throw new ConfigError(setting, "expected a comma-separated list of host:port");
  const brokers = entries.map((entry) => String(entry).trim()).filter((entry) => entry !== "");
  if (brokers.length === 0) throw new ConfigError(setting, "is empty; expected host:port[,host:port...]");
  for (const broker of brokers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:\s/]+):(\d{1,5})$/.exec(broker);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(setting, `"${broker}" is not host:port`);
    }
  }
  return brokers;
}

function settingsFrom(
  source: SettingsSource,
  names: { brokers: string; user: string; password: string; mechanism: string; tls: string; ca: string },
  clientId: string,
): KafkaSettings | undefined {
  const rawBrokers = source[names.brokers];
  if (rawBrokers === undefined || rawBrokers === null || rawBrokers === "") return undefined;
  const brokers = parseBrokerList(names.brokers, rawBrokers);
  const username = readString(source, names.user);
  const password = readString(source, names.password);
  if ((username === undefined) !== (password === undefined)) {
    const missing = username === undefined ? names.user : names.password;
    throw new ConfigError(missing, `missing; SASL needs both ${names.user} and ${names.password}`);
  }
  const named = (readString(source, names.mechanism) ?? "plain").toLowerCase();
  const mechanism = MECHANISMS.find((known) => known === named);
  if (mechanism === undefined) {
    throw new ConfigError(names.mechanism, `"${named}" is not one of ${MECHANISMS.join(", ")}`);
  }
  const sasl: SaslCredentials | undefined =
    username !== undefined && password !== undefined ? { mechanism, username, password } : undefined;
  // IBM Event Streams only speaks SASL over TLS, so TLS follows SASL unless told otherwise.
  const ssl = readBoolean(source, names.tls) ?? sasl !== undefined;
  const ca = readString(source, names.ca);
  if (ca !== undefined && !ca.includes("-----BEGIN CERTIFICATE-----"))
    throw new ConfigError(names.ca, "expected PEM certificates (-----BEGIN CERTIFICATE----- ...)");
  return { brokers, ssl, sasl, clientId, ...(ca ? { ca } : {}) };
}

/** KAFKA_BROKERS, KAFKA_SASL_USER, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM, KAFKA_TLS, KAFKA_CA. Undefined without KAFKA_BROKERS. */
export function kafkaSettingsFromEnv(
  env: SettingsSource = process.env,
  clientId = "ow-saga",
): KafkaSettings | undefined {
  return settingsFrom(
    env,
    {
      brokers: "KAFKA_BROKERS",
      user: "KAFKA_SASL_USER",
      password: "KAFKA_SASL_PASSWORD",
      mechanism: "KAFKA_SASL_MECHANISM",
      tls: "KAFKA_TLS",
      ca: "KAFKA_CA",
    },
    clientId,
  );
}

/** The parameter names of OpenWhisk's Kafka feed and IBM Event Streams: kafka_brokers_sasl, user, password (+ kafka_sasl_mechanism, kafka_tls, kafka_ca). */
export function kafkaSettingsFromParams(params: SettingsSource, clientId: string): KafkaSettings | undefined {
  return settingsFrom(params, KAFKA_PARAMETERS, clientId);
}

export function requireKafkaSettings(settings: KafkaSettings | undefined, setting = "KAFKA_BROKERS"): KafkaSettings {
  if (!settings) throw new ConfigError(setting, "missing; set it to host:port[,host:port...] or start the local stack");
  return settings;
}
