// Shared by the components of the operator compositions: every failure leaves a component as `{ error: Failure }`,
// an HTTP status with a JSON body, which the composition's catch turns into the web answer. Composer keeps only
// the `error` field of a failed component's result, so everything the answer needs travels inside it.
import { describeError, SagaError } from "../../lib/errors.ts";

export interface Failure {
  statusCode: number;
  error: string;
  /** The input field at fault (400). */
  field?: string;
  headers?: Record<string, string>;
  [detail: string]: unknown;
}

/** A failure with a chosen status: thrown by a component, answered as is. */
export class HttpFailure extends SagaError {
  override name = "HttpFailure";
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Omit<Failure, "statusCode" | "error"> = {},
  ) {
    super(message);
  }
}

/** Kafka or the store did not answer, in time or at all: 503, worth a retry. */
export class Unavailable extends SagaError {
  override name = "Unavailable";
  constructor(
    readonly service: "kafka" | "store",
    underlying: unknown,
    note = "",
  ) {
    const what = service === "kafka" ? "Kafka" : "the store";
    super(`${what} is unavailable: ${describeError(underlying)}${note ? `; ${note}` : ""}`, { cause: underlying });
  }
}

export const RETRY_AFTER_S = 10;

export function failureOf(err: unknown): Failure {
  if (err instanceof HttpFailure) return { ...err.extra, statusCode: err.statusCode, error: err.message };
  if (err instanceof Unavailable) {
    return {
      statusCode: 503,
      error: err.message,
      service: err.service,
      headers: { "retry-after": String(RETRY_AFTER_S) },
    };
  }
  return { statusCode: 500, error: describeError(err) };
}

export type Params = Record<string, unknown>;

/**
 * An action of a composition: its result, or `{ error: Failure }`. Server-side failures are logged (the activation
 * record keeps them); the caller's own mistakes are not.
 */
export function component(name: string, work: (params: Params) => Promise<Params>) {
  return async (params: Params): Promise<Params> => {
    try {
      return await work(params);
    } catch (err) {
      const failure = failureOf(err);
      if (failure.statusCode >= 500) console.error(`${name}: ${failure.error}`);
      return { error: failure };
    }
  };
}

/** Web calls must be POSTs; a direct invoke (`wsk action invoke`) has no method and is let through. */
export function requirePost(params: Params): void {
  const method = params.__ow_method;
  if (method !== undefined && method !== "post") {
    throw new HttpFailure(405, `use POST with a JSON body, not ${String(method).toUpperCase()}`, {
      headers: { allow: "POST" },
    });
  }
  if (params.__ow_body !== undefined) {
    throw new HttpFailure(400, "the body must be a JSON object (content-type: application/json)", { field: "body" });
  }
}

/** A store call that gives up after timeoutMs: an SDK request to an unreachable host may otherwise hang. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
