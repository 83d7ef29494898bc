// Parameters bound to a step action at deploy time (configuration, never part of an event) and the deadline.
export const STEP_PARAMETER_KEYS: ReadonlySet<string> = new Set([
  "kafka_brokers_sasl",
  "user",
  "password",
  "kafka_sasl_mechanism",
  "kafka_tls",
  "cloudant_url",
  "cloudant_apikey",
  "cloudant_username",
  "cloudant_password",
  "cloudant_iam_url",
]);

/** Without __OW_DEADLINE (a direct call outside OpenWhisk) an activation gets OpenWhisk's default 60 s. */
const DEFAULT_ACTIVATION_MS = 60_000;

/** The activation's deadline in epoch ms: __OW_DEADLINE, which the runtime sets from the action's time limit. */
export function deadlineFromParams(env: NodeJS.ProcessEnv, now: () => number): number {
  const raw = env.__OW_DEADLINE;
  if (raw === undefined || raw === "") return now() + DEFAULT_ACTIVATION_MS;
  const deadline = Number(raw);
  if (!Number.isFinite(deadline)) throw new Error(`__OW_DEADLINE is "${raw}", not epoch milliseconds`);
  return deadline;
}
