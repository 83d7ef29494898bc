// Shared by the read-side web actions: the service's database client and JSON answers.

import { statusOf } from "../lib/errors.ts";
import { type Cloudant, createCloudant } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv, storeSettingsFromParams } from "../lib/store/config.ts";

export type WebAnswer = { statusCode: number; headers: Record<string, string>; body: unknown };

export const json = (statusCode: number, body: unknown): WebAnswer => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body,
});

export function storeFor(params: Record<string, unknown>): Cloudant {
  return createCloudant(
    requireStoreSettings(storeSettingsFromParams(params) ?? storeSettingsFromEnv(), "cloudant_url"),
  );
}

/** Runs a web action's body; any failure is a 500 with its message, never a crash. */
export async function answering(work: () => Promise<WebAnswer>): Promise<WebAnswer> {
  try {
    return await work();
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return json(404, { error: "not found" });
    return json(500, { error: err instanceof Error ? err.message : String(err) });
  }
}
