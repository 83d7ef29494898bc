// A fault-injecting HTTP proxy in front of the CouchDB-compatible store: it forwards requests, or answers some of
// them itself (429 as IBM Cloudant does past its throughput, a conflict), rewrites answers (an index that has not
// caught up), or goes down altogether (every connection dropped). Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync } from "node:zlib";

export interface StoreRequest {
  method: string;
  /** Path and query, as sent: /db/_bulk_docs */
  url: string;
  /** The body as the store reads it (the Cloudant SDK gzips request bodies). */
  body: Buffer;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ProxyRules {
  /** An answer given without asking the store, or undefined to forward the request. */
  intercept?: (request: StoreRequest) => Reply | undefined;
  /** What the client sees of the store's answer; "drop" loses it (the store did the work, the client never hears). */
  rewrite?: (request: StoreRequest, status: number, body: Buffer) => Buffer | "drop";
}

export interface StoreProxy {
  url: string;
  /** Requests answered by the proxy itself, and requests forwarded. */
  stats: { intercepted: number; forwarded: number; dropped: number };
  /** While down, every connection is dropped at once: what a client sees of a store that is gone. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startStoreProxy(target: string, rules: ProxyRules = {}): Promise<StoreProxy> {
  const upstream = new URL(target);
  const stats = { intercepted: 0, forwarded: 0, dropped: 0 };
  const sockets = new Set<Socket>();
  let down = false;

  const forward = (req: IncomingMessage, res: ServerResponse, storeRequest: StoreRequest, raw: Buffer) => {
    stats.forwarded += 1;
    // Answers come back uncompressed, so a rule can read and rewrite them.
    const { host: _, "content-length": __, "accept-encoding": ___, ...headers } = req.headers;
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...headers, "content-length": raw.length },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const status = answer.statusCode ?? 502;
          const answered = Buffer.concat(chunks);
          const body = rules.rewrite ? rules.rewrite(storeRequest, status, answered) : answered;
          if (body === "drop") {
            stats.dropped += 1;
            res.socket?.destroy();
            return;
          }
          const { "content-length": _length, "transfer-encoding": _encoding, ...rest } = answer.headers;
          res.writeHead(status, { ...rest, "content-length": body.length });
          res.end(body);
        });
        answer.on("error", () => res.destroy());
      },
    );
    outgoing.on("error", () => res.destroy());
    outgoing.end(raw);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (down) {
        stats.dropped += 1;
        req.socket.destroy();
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" && raw.length > 0 ? gunzipSync(raw) : raw;
      const storeRequest: StoreRequest = { method: req.method ?? "GET", url: req.url ?? "/", body };
      const reply = rules.intercept?.(storeRequest);
      if (!reply) {
        forward(req, res, storeRequest, raw);
        return;
      }
      stats.intercepted += 1;
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  server.on("connection", (socket) => {
    if (down) {
      stats.dropped += 1;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setDown(value: boolean) {
      down = value;
      if (down) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The database a request is about (/db/...), or undefined for server-level requests. */
export function databaseOf(url: string): string | undefined {
  const first = url.split("?")[0]?.split("/")[1];
  return first && !first.startsWith("_") ? decodeURIComponent(first) : undefined;
}

/** True for requests that change documents: what a 409 can answer. */
export function isDocumentWrite(request: StoreRequest): boolean {
  const path = request.url.split("?")[0] ?? "";
  if (request.method === "POST" && path.endsWith("/_bulk_docs")) return true;
  const segments = path.split("/").filter(Boolean);
  return (
    (request.method === "PUT" || request.method === "DELETE") && segments.length >= 2 && !segments[1]?.startsWith("_")
  );
}

/** The conflict answer CouchDB gives a write: per document for _bulk_docs, 409 for a single document. */
export function conflictReply(request: StoreRequest): Reply {
  const path = request.url.split("?")[0] ?? "";
  if (!path.endsWith("/_bulk_docs"))
    return { status: 409, body: { error: "conflict", reason: "Document update conflict." } };
  const docs = (JSON.parse(request.body.toString("utf8") || "{}") as { docs?: { _id?: string }[] }).docs ?? [];
  return {
    status: 201,
    body: docs.map((doc) => ({ id: doc._id, error: "conflict", reason: "Document update conflict." })),
  };
}
