// What a request to the store costs in IBM Cloudant's terms: its provisioned throughput is metered as reads, writes
// and global queries (`_find`, views, search; a capacity block gives 100 reads/s, 50 writes/s and 5 global
// queries/s). The local store counts the requests it serves by these kinds, so that a benchmark can say what a
// saga costs. Cloudant meters a request that reads or writes several documents as several units, so beside the
// requests it counts the documents each read or write carried.
export type RequestKind = "read" | "write" | "global" | "other";

export type RequestCounts = Record<RequestKind, number> & { docsRead: number; docsWritten: number };

export const noRequests = (): RequestCounts => ({
  read: 0,
  write: 0,
  global: 0,
  other: 0,
  docsRead: 0,
  docsWritten: 0,
});

/** Whether the answer to this path lists documents, so that counting them needs its body. */
export const answerListsDocuments = (path: string): boolean =>
  /^\/[^/_][^/]*\/(_bulk_docs|_all_docs|_bulk_get|_changes)/.test(path);

const lengthOf = (value: unknown): number => (Array.isArray(value) ? value.length : 0);

/** The documents a read or write answer carried: one for a single document, each row or result of a bulk answer. */
export function documentsIn(path: string, answer: unknown): number {
  if (!answerListsDocuments(path)) return 1;
  const body = (answer ?? {}) as { rows?: unknown; results?: { rows?: unknown }[] };
  if (path.includes("/_bulk_docs")) return lengthOf(answer);
  if (path.includes("/_all_docs/queries")) return (body.results ?? []).reduce((n, r) => n + lengthOf(r?.rows), 0);
  if (path.includes("/_all_docs")) return lengthOf(body.rows);
  return lengthOf(body.results);
}

/** The kind of a request, by method and path (`/db/...`, as CouchDB routes it). */
export function requestKind(method: string, path: string): RequestKind {
  const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  const [db, second] = parts;
  if (!db || db.startsWith("_") || parts.length === 1) return "other";
  if (second === "_find" || second === "_design" || second === "_search") return "global";
  if (second === "_bulk_docs") return "write";
  if (second === "_all_docs" || second === "_bulk_get" || second === "_changes") return "read";
  if (second?.startsWith("_")) return "other";
  if (method === "GET" || method === "HEAD") return "read";
  if (method === "PUT" || method === "DELETE" || method === "POST") return "write";
  return "other";
}
