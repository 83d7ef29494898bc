// Reading values whose type nobody promised (parsed JSON, caught errors, a library's loose fields) without casts:
// the checks here are what lets the rest of lib/ be typed. Imports nothing.

/** A JSON-like object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One property of any value, or undefined when the value is not an object (errors thrown may be anything). */
export function propertyOf(value: unknown, key: PropertyKey): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
