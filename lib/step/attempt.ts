// Calling a pure handler a bounded number of times: a throw may not repeat (it can depend on time or memory), but
// one that keeps repeating makes the message a dead letter.
import { ConfigError } from "../config/settings.ts";

export type Attempted<T> = { ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number };

export function attemptUpTo<T>(times: number, call: () => T): Attempted<T> {
  let error: unknown;
  for (let attempts = 1; attempts <= times; attempts += 1) {
    try {
      return { ok: true, value: call(), attempts };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error, attempts: times };
}

/** The same for a handler that may wait (a keyed step's, which can reach other systems). */
export async function attemptUpToAsync<T>(times: number, call: () => Promise<T> | T): Promise<Attempted<T>> {
  let error: unknown;
  for (let attempts = 1; attempts <= times; attempts += 1) {
    try {
      return { ok: true, value: await call(), attempts };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error, attempts: times };
}

/** A handler that throws a ConfigError fails for every event until the deployment is fixed: say so in the reason. */
export function failureReason(error: unknown): "config-invalid" | "handler-failed" {
  return error instanceof ConfigError ? "config-invalid" : "handler-failed";
}
