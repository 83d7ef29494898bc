// Entry point of the local CouchDB-compatible server: express-pouchdb (full mode) over pouchdb-node.
// Usage: couch-server.ts <port> <dataDir> <disk|memory>. Listens on 127.0.0.1 only.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import express from "express";
import expressPouchDB from "express-pouchdb";
import memoryAdapter from "pouchdb-adapter-memory";
import PouchDB from "pouchdb-node";
import { allDocsQueries } from "./all-docs-queries.ts";

const [portArg, dataDir, mode] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || !dataDir || (mode !== "disk" && mode !== "memory")) {
  console.error("usage: couch-server.ts <port> <dataDir> <disk|memory>");
  process.exit(2);
}

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

mkdirSync(dataDir, { recursive: true });
const pouch =
  mode === "memory"
    ? PouchDB.plugin(memoryAdapter).defaults({ adapter: "memory" })
    : PouchDB.defaults({ prefix: `${dataDir}/` });
const app = express();
app.disable("x-powered-by");
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
