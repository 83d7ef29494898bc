import test from "ava";
import { documentsIn, type RequestKind, requestKind } from "../../scripts/stack/store-requests.ts";

test("requests are counted as Cloudant meters them: reads, writes, global queries", (t) => {
  // method, path, and how Cloudant meters it
  const table = `
    GET     /saga-parts/entity%3Aseal-kit         read
    POST    /saga-parts/_all_docs                 read
    POST    /saga-parts/_all_docs/queries         read
    GET     /lossless-feed-triggers/_changes      read
    PUT     /saga-parts/entity%3Aseal-kit         write
    DELETE  /saga-parts/landing%3Ax               write
    POST    /saga-parts/_bulk_docs                write
    POST    /saga-parts/_find                     global
    GET     /saga-parts/_design/d/_view/v         global
    POST    /saga-parts/_index                    other
    PUT     /saga-parts                           other
    GET     /_all_dbs                             other
    GET     /                                     other`;
  const rows = table.trim().split("\n");
  t.is(rows.length, 13);
  for (const [method = "", path = "", kind] of rows.map((row) => row.trim().split(/\s+/))) {
    t.is(requestKind(method, path), kind as RequestKind, `${method} ${path}`);
  }
});

test("a bulk answer counts its documents, as Cloudant meters them; a single one counts one", (t) => {
  t.is(documentsIn("/saga-parts/entity%3Aseal-kit", { _id: "x" }), 1);
  t.is(documentsIn("/saga-parts/_bulk_docs", [{ ok: true }, { error: "conflict" }, { ok: true }]), 3);
  t.is(documentsIn("/saga-parts/_all_docs", { rows: [{}, {}] }), 2);
  t.is(documentsIn("/saga-parts/_all_docs/queries", { results: [{ rows: [{}] }, { rows: [{}, {}, {}] }] }), 4);
  t.is(documentsIn("/saga-parts/_bulk_get", { results: [{}, {}] }), 2);
  t.is(documentsIn("/lossless-feed-triggers/_changes", { results: [{}], last_seq: "1" }), 1);
  t.is(documentsIn("/saga-parts/_all_docs", { error: "not_found" }), 0);
});
