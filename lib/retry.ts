// Which failures pass by themselves (retry them) and which do not (report them), and retrying within a deadline.
// Used by the step kit, the Kafka helpers and provisioning alike, so it sits below them all.
import { describeError, SagaError, statusOf } from "./errors.ts";
import { propertyOf } from "./narrow.ts";

/** Store answers worth retrying: 429 (Cloudant's throughput limit), 408, 5xx; or no answer at all. */
export function isTransientStoreError(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return true;
  return status === 429 || status === 408 || status >= 500;
}

/**
 * KafkaJS marks errors it considers passing as retriable; a connection failure has no answer at all. When its own
 * retries run out it wraps the last failure (KafkaJSNonRetriableError, `cause`): a broker that is restarting is
 * still passing, so the chain of causes is looked at.
 */
export function isTransientKafkaError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth += 1) {
    if (propertyOf(e, "retriable") === true) return true;
    if (
      /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError|KafkaJSBrokerNotFound/.test(
        String(propertyOf(e, "name") ?? ""),
      )
    )
      return true;
    e = propertyOf(e, "cause");
  }
  return false;
}

export interface Deadline {
  /** Epoch milliseconds by which the activation must have answered. */
  at: number;
  /** Time kept in hand at the end for the work after the retried call (sending to the retry topic, answering). */
  reserveMs: number;
}

export interface BackoffOptions {
  deadline: Deadline;
  now: () => number;
  isTransient: (err: unknown) => boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class GaveUp extends SagaError {
  override name = "GaveUp";
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts: ${describeError(lastError)}`, { cause: lastError });
  }
}

/** How long an answer asked to be left alone (Retry-After: seconds or an HTTP date), in ms; undefined when it did not. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const raw = propertyOf(propertyOf(err, "headers"), "retry-after");
  if (raw === undefined || raw === null || raw === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Calls fn until it succeeds, a non-transient error occurs (rethrown as is), or the next wait would run into the
 * deadline's reserve (GaveUp). Delays double from firstDelayMs up to maxDelayMs; an answer's Retry-After is honoured.
 */
export async function retryWithinDeadline<T>(fn: () => Promise<T>, options: BackoffOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = options.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (!options.isTransient(err)) throw err;
      const wait = retryAfterMs(err, options.now()) ?? delay;
      const budget = options.deadline.at - options.deadline.reserveMs - options.now();
      if (budget < wait) throw new GaveUp(attempt, err);
      await sleep(wait);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  }
}
