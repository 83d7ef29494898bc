// What a request to the store costs in IBM Cloudant's terms: its provisioned throughput is metered as reads, writes
// and global queries (`_find`, views, search; a capacity block gives 100 reads/s, 50 writes/s and 5 global
// queries/s). The local store counts the requests it serves by these kinds, so that a benchmark can say what a
// saga costs. A bulk request counts once here; how Cloudant meters its documents is its own business.
export type RequestKind = "read" | "write" | "global" | "other";

export type RequestCounts = Record<RequestKind, number>;

export const noRequests = (): RequestCounts => ({ read: 0, write: 0, global: 0, other: 0 });

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
