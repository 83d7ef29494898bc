// The project's one base error, and one way to describe any error. A wrapping error keeps what it wraps as the
// standard `cause` (its stack, its HTTP status), not only as text.
import { propertyOf } from "./narrow.ts";

/** Each subclass names itself (`override name = "..."`): bundles are minified, so class names are not kept. */
export abstract class SagaError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The HTTP status an error carries (the Cloudant SDK's `status`, an HTTP client's numeric `code`), if any. */
export function statusOf(err: unknown): number | undefined {
  const status = propertyOf(err, "status") ?? propertyOf(err, "code");
  return typeof status === "number" ? status : undefined;
}

/** One line for any thrown value: the message, with the HTTP status when the error carries one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const status = statusOf(err);
    return status !== undefined ? `${err.message} (HTTP ${status})` : err.message;
  }
  return String(err);
}
