// `POST /{db}/_all_docs/queries` (CouchDB 2.2+, IBM Cloudant): several `_all_docs` queries in one request, each
// answered as `_all_docs` would, in order. express-pouchdb 4.2 does not have it; the step kit reads every stream of
// a batch with it, one key range per stream.
import express from "express";
import { getOrCreateDB } from "express-pouchdb/lib/create-or-delete-dbs.js";
import type { PouchDBConstructor } from "pouchdb-node";

/** The `_all_docs` parameters a query may carry, in CouchDB's names, as PouchDB's `allDocs` takes them. */
function allDocsOptions(query: Record<string, unknown>): Record<string, unknown> {
  const pick = (...names: string[]) => names.map((name) => query[name]).find((value) => value !== undefined);
  const options: Record<string, unknown> = {
    startkey: pick("startkey", "start_key"),
    endkey: pick("endkey", "end_key"),
    key: query.key,
    keys: query.keys,
    include_docs: query.include_docs,
    inclusive_end: query.inclusive_end,
    descending: query.descending,
    limit: query.limit,
    skip: query.skip,
    conflicts: query.conflicts,
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** One request is one thread of the store's work: a bound, so that no caller can hold the store with one request. */
export const MAX_QUERIES = 200;

export function allDocsQueries(pouch: PouchDBConstructor): express.RequestHandler {
  const router = express.Router();
  router.post("/:db/_all_docs/queries", express.json({ limit: "4mb" }), async (req, res) => {
    const queries = (req.body as { queries?: unknown } | undefined)?.queries;
    if (!Array.isArray(queries) || queries.some((query) => typeof query !== "object" || query === null)) {
      res.status(400).json({ error: "bad_request", reason: "the body must be {queries: [object, ...]}" });
      return;
    }
    if (queries.length > MAX_QUERIES) {
      res.status(400).json({ error: "bad_request", reason: `at most ${MAX_QUERIES} queries a request` });
      return;
    }
    const name = req.params.db ?? "";
    try {
      if (!(await pouch.allDbs()).includes(name)) {
        res.status(404).json({ error: "not_found", reason: "Database does not exist." });
        return;
      }
      // The server's own instance of the database, so that this read sees every write it acknowledged.
      const db = await getOrCreateDB(pouch, name);
      const results = [];
      for (const query of queries) results.push(await db.allDocs(allDocsOptions(query as Record<string, unknown>)));
      res.json({ results });
    } catch (err) {
      const status = Number((err as { status?: number }).status) || 500;
      res.status(status).json({ error: (err as { name?: string }).name ?? "error", reason: String(err) });
    }
  });
  return router;
}
