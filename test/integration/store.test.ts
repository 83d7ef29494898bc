import test, { type ExecutionContext } from "ava";
import { statusOf } from "../../lib/errors.ts";
import { commitDocId, readStreams } from "../../lib/step/documents.ts";
import { type Cloudant, ensureDatabase } from "../../lib/store/client.ts";
import { storeAuthHeader, storeSettings, testCloudant, uniqueName } from "../support/services.ts";

async function freshDatabase(t: ExecutionContext, client: Cloudant): Promise<string> {
  const db = uniqueName("db");
  await ensureDatabase(client, db);
  t.teardown(() => client.deleteDatabase({ db }).catch(() => undefined));
  return db;
}

test("ensureDatabase creates once and then reports the database as existing", async (t) => {
  const client = testCloudant();
  const db = uniqueName("db");
  t.teardown(() => client.deleteDatabase({ db }).catch(() => undefined));
  t.is(await ensureDatabase(client, db), "created");
  t.is(await ensureDatabase(client, db), "existed");
});

test("a second write of an _id without its _rev is refused with 409", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  const first = await client.putDocument({ db, docId: "pump-1", document: { rpm: 1 } });
  t.true(first.result.ok);
  const err = await t.throwsAsync(client.putDocument({ db, docId: "pump-1", document: { rpm: 2 } }));
  t.is(statusOf(err), 409);
  const updated = await client.putDocument({ db, docId: "pump-1", document: { _rev: first.result.rev, rpm: 2 } });
  t.regex(updated.result.rev ?? "", /^2-/);
});

test("_bulk_docs reports a conflict per document and writes the others", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.putDocument({ db, docId: "taken", document: { n: 0 } });
  const response = await client.postBulkDocs({
    db,
    bulkDocs: {
      docs: [
        { _id: "new-1", n: 1 },
        { _id: "taken", n: 2 },
        { _id: "new-2", n: 3 },
      ],
    },
  });
  const byId = Object.fromEntries(response.result.map((r) => [r.id, r]));
  t.true(byId["new-1"]?.ok);
  t.true(byId["new-2"]?.ok);
  t.is(byId.taken?.error, "conflict");
  const taken = await client.getDocument({ db, docId: "taken" });
  t.is(taken.result.n, 0);
});

test("_find uses a declared index and returns the matching documents sorted", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.postIndex({
    db,
    index: { fields: [{ site: "asc" } as never, { rpm: "asc" } as never] },
    name: "by-site-rpm",
    type: "json",
  });
  await client.postBulkDocs({
    db,
    bulkDocs: {
      docs: [
        { _id: "p1", site: "north", rpm: 1500 },
        { _id: "p2", site: "south", rpm: 900 },
        { _id: "p3", site: "north", rpm: 700 },
      ],
    },
  });
  const found = await client.postFind({
    db,
    selector: { site: "north", rpm: { $gt: 0 } },
    sort: [{ site: "asc" }, { rpm: "asc" }],
  });
  t.deepEqual(
    found.result.docs.map((d) => d._id),
    ["p3", "p1"],
  );
});

test("_changes since a sequence returns only the later changes", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.putDocument({ db, docId: "before", document: {} });
  const first = await client.postChanges({ db });
  const since = first.result.lastSeq;
  await client.putDocument({ db, docId: "after-1", document: {} });
  await client.putDocument({ db, docId: "after-2", document: {} });
  const later = await client.postChanges({ db, since });
  t.deepEqual(later.result.results.map((c) => c.id).sort(), ["after-1", "after-2"]);
});

test("the store answers only its admin, as CouchDB 3 does: no credentials or wrong ones are 401, GET / is open", async (t) => {
  const { url } = storeSettings();
  t.is((await fetch(`${url}/`)).status, 200);
  t.is((await fetch(`${url}/_all_dbs`)).status, 401);
  const wrong = { authorization: `Basic ${Buffer.from("admin:guess").toString("base64")}` };
  t.is((await fetch(`${url}/_all_dbs`, { headers: wrong })).status, 401);
  t.is((await fetch(`${url}/some-db`, { method: "PUT", headers: wrong })).status, 401);
  t.is((await fetch(`${url}/_all_dbs`, { headers: storeAuthHeader() })).status, 200);
});

test("_find skips a document deleted while the query runs, as CouchDB does, instead of failing", async (t) => {
  t.timeout(120_000);
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.postIndex({ db, index: { fields: [{ kind: "asc" }] as never }, name: "by-kind", type: "json" });
  const failures: string[] = [];
  for (let round = 0; round < 15; round += 1) {
    const docs = Array.from({ length: 300 }, (_, i) => ({ _id: `r${round}-${i}`, kind: "landing", n: i }));
    const written = (await client.postBulkDocs({ db, bulkDocs: { docs } })).result;
    const deletions = written.map((r) => ({ _id: r.id, _rev: r.rev, _deleted: true }));
    // Queries and deletions side by side: some documents the index names are gone when the docs are fetched.
    const finds = Array.from({ length: 4 }, () =>
      client.postFind({ db, selector: { kind: "landing" }, limit: 1_000 }).then(
        () => undefined,
        (err: unknown) => failures.push(`${statusOf(err)} ${(err as Error).message}`),
      ),
    );
    await Promise.all([...finds, client.postBulkDocs({ db, bulkDocs: { docs: deletions as never[] } })]);
  }
  t.deepEqual(failures, []);
});

test("requests that crash a stock express-pouchdb get an HTTP error here and the server keeps answering", async (t) => {
  const { url } = storeSettings();
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.putDocument({ db, docId: "x", document: { color: "red" } });
  const noBody = await fetch(`${url}/${db}/_changes?filter=_selector`, { headers: storeAuthHeader() });
  t.is(noBody.status, 400);
  const selected = await fetch(`${url}/${db}/_changes?filter=_selector`, {
    method: "POST",
    headers: { "content-type": "application/json", ...storeAuthHeader() },
    body: JSON.stringify({ selector: { color: "red" } }),
  });
  t.is(selected.status, 200);
  t.deepEqual(
    ((await selected.json()) as { results: { id: string }[] }).results.map((r) => r.id),
    ["x"],
  );
  const badJson = await fetch(`${url}/${db}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...storeAuthHeader() },
    body: "{not json",
  });
  t.is(badJson.status, 400);
  const info = await client.getServerInformation();
  t.is(info.status, 200);
});

test("_all_docs/queries answers each query as _all_docs would, in order, through the Cloudant client", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  await client.postBulkDocs({
    db,
    bulkDocs: { docs: ["a:1", "a:2", "b:1", "c:1"].map((_id, n) => ({ _id, n })) },
  });
  const answer = await client.postAllDocsQueries({
    db,
    queries: [
      { startKey: "a:", endKey: "a:\ufff0", includeDocs: true },
      { keys: ["c:1", "missing"] },
      { startKey: "a:", endKey: "b:\ufff0", limit: 3, skip: 1 },
    ],
  });
  const [range, keys, paged] = answer.result.results;
  t.deepEqual(
    range?.rows.map((row) => [row.id, (row.doc as { n?: number } | undefined)?.n]),
    [
      ["a:1", 0],
      ["a:2", 1],
    ],
  );
  t.deepEqual(
    keys?.rows.map((row) => row.id ?? row.error),
    ["c:1", "not_found"],
  );
  t.deepEqual(
    paged?.rows.map((row) => row.id),
    ["a:2", "b:1"],
  );
  const missing = await client.postAllDocsQueries({ db: `${db}-none`, queries: [{}] }).catch((err: unknown) => err);
  t.is(statusOf(missing), 404);
  const { url } = storeSettings();
  const malformed = await fetch(`${url}/${db}/_all_docs/queries`, {
    method: "POST",
    headers: { "content-type": "application/json", ...storeAuthHeader() },
    body: JSON.stringify({ queries: "all" }),
  });
  t.is(malformed.status, 400);
  const many = await client
    .postAllDocsQueries({ db, queries: Array.from({ length: 201 }, () => ({ limit: 1 })) })
    .catch((err: unknown) => err);
  t.is(statusOf(many), 400, "at most 200 queries a request: one request cannot hold the store");
});

test("a batch's streams are read in requests of at most 100 streams, and every stream's commits come back", async (t) => {
  const client = testCloudant();
  const db = await freshDatabase(t, client);
  const streams = Array.from({ length: 250 }, (_, i) => `wo-${i}`);
  await client.postBulkDocs({
    db,
    bulkDocs: {
      docs: streams.map((stream) => ({
        _id: commitDocId(stream, 1),
        kind: "commit",
        stream,
        seq: 1,
        applied: [],
        entries: [],
        outbox: [],
        committedAt: 0,
      })) as never[],
    },
  });
  const read = await readStreams(client, db, streams);
  t.is(read.size, 250);
  t.true([...read.values()].every((commits) => commits.length === 1));
});
