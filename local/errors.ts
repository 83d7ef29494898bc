// Error answers as OpenWhisk's controller gives them: {error, code} where code is the transaction id.

import { randomBytes } from "node:crypto";
import { SagaError } from "../lib/errors.ts";

export const Messages = {
  resourceDoesNotExist: "The requested resource does not exist.",
  resourceExists: "resource already exists",
  notAuthorized: "The supplied authentication is not authorized to access this resource.",
  authMissing: "The resource requires authentication, which was not supplied with the request",
  authInvalid: "The supplied authentication is invalid",
  parametersNotAllowed: "Request defines parameters that are not allowed (e.g., reserved properties).",
  entityNameIllegal: "The name of the entity contains illegal characters.",
  sequenceIsTooLong: "Too many actions in the sequence.",
  sequenceComponentNotFound: "Sequence component does not exist.",
  sequenceIsCyclic: "Sequence may not refer to itself.",
  compositionIsTooLong: "Too many actions in the composition.",
  responseNotReady: "Response not yet ready.",
  tooManyRequests: (count: number, allowed: number) =>
    `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  tooManyConcurrent: (count: number, allowed: number) =>
    `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
  entityTooBig: (field: string, is: number, allowed: number) =>
    `${field} larger than allowed: ${is} > ${allowed} bytes.`,
  malformed: (detail: string) => `The request content was malformed:\n${detail}`,
  timedOut: (ms: number, init: boolean) =>
    `The action exceeded its time limits of ${ms} milliseconds${init ? " during initialization." : "."}`,
  abnormalInit: "The action did not initialize and exited unexpectedly.",
  abnormalRun: "The action did not produce a valid response and exited unexpectedly.",
  invalidRunResponse: (body: string) =>
    `The action did not produce a valid JSON or JSON Array response${body ? `: ${body}` : "."}`,
  invalidInitResponse: (body: string) => `The action failed during initialization${body ? `: ${body}` : "."}`,
  truncatedResponse: (trunk: string, length: number, max: number) =>
    `The action produced a response that exceeded the allowed length: ${length} > ${max} bytes. The truncated response was: ${trunk}`,
} as const;

export class ApiError extends SagaError {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const transactionId = () => randomBytes(16).toString("hex");
