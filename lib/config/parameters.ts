// Every action parameter the shared machinery reads as a setting, by name, in one place. A setting must be bound at
// deploy (serverless.yml binds each one, '' when unused): OpenWhisk then refuses, with 400, any web request that
// sets it, because web actions are `final`. A setting left unbound could be set by any caller of a web action and,
// for example, send the Cloudant API key to a host of the caller's choosing (cloudant_iam_url).

/** Kafka: the names of OpenWhisk's Kafka feed and IBM Event Streams, and ours for the rest. */
export const KAFKA_PARAMETERS = {
  brokers: "kafka_brokers_sasl",
  user: "user",
  password: "password",
  mechanism: "kafka_sasl_mechanism",
  tls: "kafka_tls",
  ca: "kafka_ca",
} as const;

/** Cloudant or CouchDB: the URL, and IAM (an API key, its token service) or basic credentials. */
export const STORE_PARAMETERS = {
  url: "cloudant_url",
  apiKey: "cloudant_apikey",
  username: "cloudant_username",
  password: "cloudant_password",
  iamUrl: "cloudant_iam_url",
} as const;

/** The step kit's and the relay's own. */
export const STEP_KIT_PARAMETERS = {
  /** `lossless` when the lossless feed fires the steps: no landing, no audit of the feed's commits. */
  feed: "kafka_feed",
  /** How long the relay waits before it re-sends offsets a feed committed that no step landed. */
  relayGapGraceMs: "relay_gap_grace_ms",
  /** Fault injection for resilience tests only (a probability); never bound in production. */
  chaosExitAfterWrite: "chaos_exit_after_write",
} as const;

/** The setting names the shared machinery reads; the services add their own (functions/service-settings.ts). */
export const KIT_SETTING_NAMES: readonly string[] = [
  ...Object.values(KAFKA_PARAMETERS),
  ...Object.values(STORE_PARAMETERS),
  ...Object.values(STEP_KIT_PARAMETERS),
];
