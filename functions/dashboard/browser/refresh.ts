// How often the dashboard refreshes itself: pure, so that it is tested outside a browser.

export const DEFAULT_REFRESH_MS = 3_000;
export const MIN_REFRESH_MS = 1_000;

/** `?refresh=<ms>`: a whole number of at least 1 s; anything else (0, a word, a negative) is the default. */
export function refreshInterval(raw: string | null): number {
  const ms = raw === null || raw.trim() === "" ? Number.NaN : Number(raw);
  return Number.isFinite(ms) && ms >= MIN_REFRESH_MS ? Math.round(ms) : DEFAULT_REFRESH_MS;
}
