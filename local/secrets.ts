// Secrets compared in constant time, so that the time an answer takes says nothing of how much of a guess was right.
import { createHash, timingSafeEqual } from "node:crypto";

/** Equal texts; the digests have one length whatever was given, so neither the length leaks. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
