// Small HTTP helpers: bounded body reading, JSON answers, the controller's error shape.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, Messages, transactionId } from "./errors.ts";

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new ApiError(413, Messages.entityTooBig("Request", declared, limit));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      req.resume();
      throw new ApiError(413, Messages.entityTooBig("Request", size, limit));
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON; undefined when empty; 400 with the controller's message when malformed. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, Messages.malformed(err instanceof Error ? err.message : String(err)));
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { "content-type": "application/json" } : {}),
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof ApiError ? err.status : 500;
  const message = err instanceof ApiError ? err.message : "Internal Server Error";
  const headers: Record<string, string> =
    status === 401 ? { "www-authenticate": 'Basic realm="whisk rest service"' } : {};
  sendJson(res, status, { error: message, code: transactionId() }, headers);
}
