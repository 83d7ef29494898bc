// Parameters bound to a step action at deploy time: configuration, never part of an event.
export const STEP_PARAMETER_KEYS: ReadonlySet<string> = new Set([
  "kafka_brokers_sasl",
  "user",
  "password",
  "kafka_sasl_mechanism",
  "kafka_tls",
  "kafka_ca",
  "cloudant_url",
  "cloudant_apikey",
  "cloudant_username",
  "cloudant_password",
  "cloudant_iam_url",
]);

/** Without __OW_DEADLINE (a direct call outside OpenWhisk) an activation gets OpenWhisk's default 60 s. */
export const DEFAULT_ACTIVATION_MS = 60_000;
