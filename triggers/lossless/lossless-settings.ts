// The lossless feed's settings: per trigger (feed parameters, with these defaults and bounds) and per provider.
import { envNumber } from "../../lib/config/settings.ts";

export const TRIGGER_DEFAULTS = {
  /** How long the broker may wait to fill a batch: the fire's latency floor. */
  batchMs: 50,
  /** Bytes of the fire's JSON; OpenWhisk refuses a trigger payload over 1 MB. */
  batchBytes: 900_000,
  /** Fires of one batch whose actions fail before it goes to the dead-letter topic. */
  maxAttempts: 5,
  deadLetterTopic: "feed.deadletter",
};

export const TRIGGER_BOUNDS = {
  batchMs: [0, 10_000],
  batchBytes: [1_024, 1_000_000],
  maxAttempts: [1, 100],
} as const;

export interface ProviderSettings {
  /** Batches being fired or followed at once, over all triggers: keeps within OpenWhisk's concurrency limit. */
  maxInFlight: number;
  /** Batches of one trigger being fired or followed at once: one busy trigger cannot take every slot. */
  maxInFlightPerTrigger: number;
  /** Partitions of one trigger consumed side by side (each partition's batches stay in order). */
  partitionsConcurrently: number;
  /**
   * How long a fire's activations are followed before the attempt counts as failed: three times OpenWhisk's longest
   * action time limit (5 min), so that a batch is never fired again while a run of it may still go on.
   */
  followTimeoutMs: number;
  /** A batch OpenWhisk's per-minute limit refused waits at least this long: its rate window. */
  throttleHoldMs: number;
  /** Waits between attempts: n-th failure waits min(base * 2^(n-1), max). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often the registrations are read again (new, changed and deleted triggers). */
  syncMs: number;
}

export function providerSettings(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {
    maxInFlight: envNumber("LOSSLESS_FEED_MAX_IN_FLIGHT", 48),
    maxInFlightPerTrigger: envNumber("LOSSLESS_FEED_MAX_IN_FLIGHT_PER_TRIGGER", 16),
    partitionsConcurrently: envNumber("LOSSLESS_FEED_PARTITIONS_CONCURRENTLY", 4),
    followTimeoutMs: envNumber("LOSSLESS_FEED_FOLLOW_TIMEOUT_MS", 900_000),
    throttleHoldMs: envNumber("LOSSLESS_FEED_THROTTLE_HOLD_MS", 60_000),
    retryBaseMs: envNumber("LOSSLESS_FEED_RETRY_BASE_MS", 1_000),
    retryMaxMs: envNumber("LOSSLESS_FEED_RETRY_MAX_MS", 30_000),
    syncMs: envNumber("LOSSLESS_FEED_SYNC_MS", 1_000),
    ...overrides,
  };
}

export const backoffMs = (settings: ProviderSettings, failures: number) =>
  Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, failures - 1));
