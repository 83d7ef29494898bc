// Entry point of the local CouchDB-compatible server: express-pouchdb (full mode) over pouchdb-node.
// Usage: couch-server.ts <port> <dataDir> <disk|memory>, with COUCH_ADMIN_USERNAME and COUCH_ADMIN_PASSWORD in the
// environment. Listens on 127.0.0.1 only, and answers only its admin (basic auth), but for GET /, as CouchDB 3 does.
import { createHash, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import express from "express";
import expressPouchDB from "express-pouchdb";
import memoryAdapter from "pouchdb-adapter-memory";
import PouchDB from "pouchdb-node";
import { allDocsQueries } from "./all-docs-queries.ts";
import { answerListsDocuments, documentsIn, noRequests, requestKind } from "./store-requests.ts";

const [portArg, dataDir, mode] = process.argv.slice(2);
const port = Number(portArg);
const { COUCH_ADMIN_USERNAME: adminName, COUCH_ADMIN_PASSWORD: adminPassword } = process.env;
if (!Number.isInteger(port) || port <= 0 || !dataDir || (mode !== "disk" && mode !== "memory")) {
  console.error("usage: couch-server.ts <port> <dataDir> <disk|memory>");
  process.exit(2);
}
if (!adminName || !adminPassword) {
  console.error(
    "couch-server: COUCH_ADMIN_USERNAME and COUCH_ADMIN_PASSWORD must be set: the store answers only its admin",
  );
  process.exit(2);
}

/**
 * Every request but GET / must carry the admin's basic credentials, compared in constant time. The check is here,
 * not in express-pouchdb's own security: with an admin configured, it kills its process on some anonymous requests.
 */
const adminOnly = (name: string, password: string): express.RequestHandler => {
  const expected = createHash("sha256").update(`${name}:${password}`).digest();
  return (req, res, next) => {
    const header = req.headers.authorization ?? "";
    // express-pouchdb would check credentials again against users of its own, which it has none of.
    delete req.headers.authorization;
    if (req.method === "GET" && req.path === "/") return next();
    const given = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString("utf8") : "";
    if (timingSafeEqual(createHash("sha256").update(given).digest(), expected)) return next();
    res
      .status(401)
      .set("www-authenticate", 'Basic realm="server"')
      .json({ error: "unauthorized", reason: "Name or password is incorrect." });
  };
};

// express-pouchdb 4.2 kills its process on `_changes?filter=_selector` (it looks up a design doc named "_selector"
// and the error escapes). PouchDB supports selectors natively, so pass the body's selector the way PouchDB wants it.
const selectorChangesShim: express.RequestHandler = (req, res, next) => {
  if (!req.path.endsWith("/_changes") || req.query.filter !== "_selector") return next();
  express.json({ limit: "4mb" })(req, res, (err?: unknown) => {
    if (err) return next(err);
    const selector = (req.body as { selector?: unknown } | undefined)?.selector;
    if (typeof selector !== "object" || selector === null) {
      res
        .status(400)
        .json({ error: "bad_request", reason: "filter=_selector needs a JSON body with a selector object" });
      return;
    }
    const query = req.query as Record<string, unknown>;
    delete query.filter;
    query.selector = selector;
    next();
  });
};

const answerErrorsAsJson: express.ErrorRequestHandler = (err, _req, res, _next) => {
  const status = Number((err as { status?: number }).status) || 500;
  if (res.headersSent) return void res.end();
  res.status(status >= 400 && status < 600 ? status : 500).json({
    error: status < 500 ? "bad_request" : "internal_server_error",
    reason: err instanceof Error ? err.message : String(err),
  });
};

// No request may take the server down: express-pouchdb emits some errors on change feeds and streams after the
// answer was sent, where no handler sees them. Log them and keep serving.
const logStray = (kind: string) => (err: unknown) =>
  console.error(`couch-server: ${kind} ignored: ${err instanceof Error ? err.message : String(err)}`);
process.on("uncaughtException", logStray("uncaught exception"));
process.on("unhandledRejection", logStray("unhandled rejection"));

/** Adds the documents a read or write answered to the counts; a bulk answer is kept aside to count its rows. */
function countDocuments(kind: "read" | "write", path: string, res: express.Response): void {
  const add = (n: number) => {
    if (kind === "read") counts.docsRead += n;
    else counts.docsWritten += n;
  };
  if (!answerListsDocuments(path)) {
    res.once("finish", () => add(1));
    return;
  }
  const chunks: Buffer[] = [];
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk && typeof chunk !== "function")
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding as BufferEncoding));
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => express.Response;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk, typeof rest[0] === "string" ? rest[0] : undefined);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    keep(chunk, typeof rest[0] === "string" ? rest[0] : undefined);
    return end(chunk, ...rest);
  }) as typeof res.end;
  res.once("finish", () => {
    try {
      add(documentsIn(path, JSON.parse(Buffer.concat(chunks).toString("utf8"))));
    } catch {
      add(0); // not JSON (an error page): no documents
    }
  });
}

mkdirSync(dataDir, { recursive: true });
const pouch =
  mode === "memory"
    ? PouchDB.plugin(memoryAdapter).defaults({ adapter: "memory" })
    : PouchDB.defaults({ prefix: `${dataDir}/` });
const app = express();
app.disable("x-powered-by");
app.use(adminOnly(adminName, adminPassword));
// GET /_ow_saga_requests: the requests served since the start, by Cloudant's kinds (the saga bench reads them).
const counts = noRequests();
app.get("/_ow_saga_requests", (_req, res) => void res.json(counts));
app.use((req, res, next) => {
  const kind = requestKind(req.method, req.path);
  counts[kind] += 1;
  if (kind === "read" || kind === "write") countDocuments(kind, req.path, res);
  next();
});
app.use(selectorChangesShim);
app.use(allDocsQueries(pouch));
app.use(
  expressPouchDB(pouch, {
    mode: "fullCouchDB",
    configPath: join(dataDir, "config.json"),
    logPath: join(dataDir, "log.txt"),
  }),
);
app.use(answerErrorsAsJson);

const server = app.listen(port, "127.0.0.1", () =>
  console.log(`couch-server listening on 127.0.0.1:${port} (${mode})`),
);
// Clients keep idle connections to reuse: closed by the server after 5 s (Node's default), a reuse racing the close
// is answered with a reset. Idle connections live a minute here, as behind most load balancers.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.on("error", (err) => {
  console.error(`couch-server: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref(); // open change feeds would otherwise hold close() forever
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
