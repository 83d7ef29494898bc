// Ids of emitted events, derived so that a re-run of a step emits the same ids: UUIDv8 (RFC 9562) from SHA-256.
// Inputs are hashed as a JSON array with a tag, so no two different inputs (or a root seed) share a preimage.
import { createHash } from "node:crypto";

function uuidFromDigest(digest: Buffer): string {
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8: custom
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10 (RFC 9562)
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of the `position`-th event (0-based) that step `stepName` emits for the input event with this key. */
export function deriveEventId(inputKey: string, stepName: string, position: number): string {
  if (!Number.isInteger(position) || position < 0)
    throw new RangeError(`position must be a non-negative integer, got ${position}`);
  if (inputKey === "" || stepName === "") throw new RangeError("the input key and the step name must not be empty");
  return uuidFromDigest(
    createHash("sha256")
      .update(JSON.stringify(["emit", inputKey, stepName, position]))
      .digest(),
  );
}

/** The id of an event that starts something (a simulator's reading, an operator's request), from a seed string. */
export function rootEventId(seed: string): string {
  return uuidFromDigest(
    createHash("sha256")
      .update(JSON.stringify(["root", seed]))
      .digest(),
  );
}
