// The store's client: the Cloudant (CouchDB) requests this project makes, typed, over node:http(s) with kept-alive
// connections, authenticated by an IAM token (an API key exchanged at IBM Cloud's token service, kept until shortly
// before it expires), basic credentials, or nothing. Hand-written rather than IBM's SDK: the SDK and what it brings
// (axios, tough-cookie, psl...) cost every cold action about 160 ms of CPU to load, for fifteen requests. Its method
// names, parameters (camelCase) and answers ({status, headers, result}) are kept, so callers read the same. It does
// not retry: the step kit does, within an activation's deadline (lib/step/io.ts), honouring Retry-After.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { SagaError, statusOf } from "../errors.ts";
import type { StoreAuth, StoreSettings } from "./config.ts";

/** A document as the store keeps it. */
export type Doc = Record<string, unknown> & StoreDoc;

/** The fields the store adds to a document; any object type may be written. */
export interface StoreDoc {
  _id?: string;
  _rev?: string;
  _deleted?: boolean;
}

export interface Answer<T> {
  status: number;
  headers: IncomingHttpHeaders;
  result: T;
}

/** An answer over 399, or no answer at all (then without `status`): what the SDK's errors carried. */
export class StoreError extends SagaError {
  override name = "StoreError";
  constructor(
    message: string,
    readonly status?: number,
    readonly headers: IncomingHttpHeaders = {},
    readonly result?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface AllDocsQuery {
  keys?: string[];
  key?: string;
  startKey?: string;
  endKey?: string;
  includeDocs?: boolean;
  inclusiveEnd?: boolean;
  descending?: boolean;
  limit?: number;
  skip?: number;
}

export interface AllDocsRow<D> {
  id: string;
  key: string;
  value?: { rev: string; deleted?: boolean };
  doc?: D | null;
  error?: string;
}

export interface AllDocsResult<D> {
  totalRows?: number;
  offset?: number;
  rows: AllDocsRow<D>[];
}

export interface DocumentResult {
  id: string;
  rev?: string;
  ok?: boolean;
  error?: string;
  reason?: string;
}

export interface ChangesResult<D> {
  lastSeq: string | number;
  pending?: number;
  results: { id: string; seq: string | number; changes: { rev: string }[]; deleted?: boolean; doc?: D }[];
}

export interface FindResult<D> {
  docs: D[];
  bookmark?: string;
  warning?: string;
}

export interface IndexInformation {
  ddoc: string | null;
  name: string;
  type: string;
  def: { fields: Record<string, "asc" | "desc">[]; partial_filter_selector?: Record<string, unknown> };
}

export type Selector = Record<string, unknown>;

/** The store, as this project uses it. */
export interface Cloudant {
  getServerInformation(): Promise<Answer<Record<string, unknown>>>;
  putDatabase(params: { db: string }): Promise<Answer<{ ok: boolean }>>;
  deleteDatabase(params: { db: string }): Promise<Answer<{ ok: boolean }>>;
  getDatabaseInformation(params: { db: string }): Promise<Answer<Record<string, unknown>>>;
  getDocument<D = Doc>(params: { db: string; docId: string }): Promise<Answer<D>>;
  putDocument<D extends object>(params: { db: string; docId: string; document: D }): Promise<Answer<DocumentResult>>;
  deleteDocument(params: { db: string; docId: string; rev: string }): Promise<Answer<DocumentResult>>;
  postBulkDocs<D extends object>(params: {
    db: string;
    bulkDocs: { docs: readonly D[] };
  }): Promise<Answer<DocumentResult[]>>;
  postAllDocs<D = Doc>(params: { db: string } & AllDocsQuery): Promise<Answer<AllDocsResult<D>>>;
  postAllDocsQueries<D = Doc>(params: {
    db: string;
    queries: AllDocsQuery[];
  }): Promise<Answer<{ results: AllDocsResult<D>[] }>>;
  postFind<D = Doc>(params: {
    db: string;
    selector: Selector;
    fields?: string[];
    limit?: number;
    skip?: number;
    sort?: Record<string, "asc" | "desc">[];
    useIndex?: string | string[];
    bookmark?: string;
  }): Promise<Answer<FindResult<D>>>;
  postIndex(params: {
    db: string;
    ddoc?: string;
    name?: string;
    type?: "json";
    index: { fields: (string | Record<string, "asc" | "desc">)[]; partial_filter_selector?: Selector };
  }): Promise<Answer<{ id: string; name: string; result: string }>>;
  getIndexesInformation(params: { db: string }): Promise<Answer<{ totalRows: number; indexes: IndexInformation[] }>>;
  postChanges<D = Doc>(params: {
    db: string;
    since?: string | number;
    feed?: "normal" | "longpoll";
    /** Milliseconds a longpoll waits for a change. */
    timeout?: number;
    descending?: boolean;
    limit?: number;
    includeDocs?: boolean;
    filter?: string;
    selector?: Selector;
  }): Promise<Answer<ChangesResult<D>>>;
}

/** IBM Cloud's token service, the SDK's default. */
const IAM_URL = "https://iam.cloud.ibm.com";
/** A request gets no answer within this: the connection is dropped and the error has no status (transient). */
const REQUEST_TIMEOUT_MS = 120_000;

type Json = Record<string, unknown>;

/** The answers whose fields the server names in snake_case, as they come. */
interface WireAllDocs<D> {
  total_rows?: number;
  offset?: number;
  rows?: AllDocsRow<D>[];
}
interface WireChanges<D> {
  last_seq: string | number;
  pending?: number;
  results?: ChangesResult<D>["results"];
}
interface WireIndexes {
  total_rows: number;
  indexes: IndexInformation[];
}
interface TokenAnswer {
  access_token?: string;
  expiration?: number;
  expires_in?: number;
}
interface ErrorAnswer {
  error?: string;
  reason?: string;
}

/** Query or body fields named as the server names them; unset ones left out. */
function wire(fields: Record<string, unknown>, names: Record<string, string>): Json {
  return Object.fromEntries(
    Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [[names[key] ?? key, value]])),
  );
}

const ALL_DOCS_NAMES = {
  startKey: "start_key",
  endKey: "end_key",
  includeDocs: "include_docs",
  inclusiveEnd: "inclusive_end",
};

const allDocsResult = <D>(raw: WireAllDocs<D>): AllDocsResult<D> => ({
  totalRows: raw.total_rows,
  offset: raw.offset,
  rows: raw.rows ?? [],
});

const segment = (docId: string) =>
  docId.startsWith("_design/") ? `_design/${encodeURIComponent(docId.slice(8))}` : encodeURIComponent(docId);

/** An IAM access token, exchanged for the API key when there is none or it expires within a minute. */
class IamToken {
  private token?: string;
  private expiresAt = 0;
  private fetching?: Promise<string>;

  constructor(
    private readonly apiKey: string,
    private readonly url: string,
    private readonly send: Sender,
  ) {}

  get(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt - 60_000) return Promise.resolve(this.token);
    this.fetching ??= (async () => {
      const body = new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: this.apiKey });
      const answer = await this.send(
        "POST",
        new URL("/identity/token", this.url),
        {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body.toString(),
      );
      const result = answer.json<TokenAnswer>();
      if (answer.status !== 200 || !result?.access_token) {
        throw new StoreError(`the IAM token service answered ${answer.status}`, answer.status, answer.headers);
      }
      this.token = result.access_token;
      this.expiresAt = result.expiration ? result.expiration * 1000 : Date.now() + (result.expires_in ?? 3_600) * 1000;
      return this.token;
    })().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }
}

type Sender = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body?: string,
  timeoutMs?: number,
) => Promise<Received>;

/** An answer as it came: its body read as JSON on demand (undefined when it is not JSON). */
interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T>(): T | undefined;
}

/** The one place the store's JSON becomes a type: the answer's shape is the server's contract, not checked here. */
function jsonOf<T>(text: string): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

function sender(): Sender {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return (method, url, headers, body, timeoutMs = REQUEST_TIMEOUT_MS) =>
    new Promise((resolve, reject) => {
      const https = url.protocol === "https:";
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method,
          agent: https ? agents.https : agents.http,
          headers: { ...headers, ...(body !== undefined ? { "content-length": Buffer.byteLength(body) } : {}) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => jsonOf<T>(text) });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (err) =>
        reject(new StoreError(`${method} ${url.pathname}: ${err.message}`, undefined, {}, undefined, { cause: err })),
      );
      req.end(body);
    });
}

function authorization(auth: StoreAuth, send: Sender): () => Promise<string | undefined> {
  switch (auth.kind) {
    case "none":
      return async () => undefined;
    case "basic": {
      const header = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      return async () => header;
    }
    case "iam": {
      const token = new IamToken(auth.apiKey, auth.iamUrl ?? IAM_URL, send);
      return async () => `Bearer ${await token.get()}`;
    }
  }
}

export function createCloudant(settings: StoreSettings): Cloudant {
  const send = sender();
  const authorize = authorization(settings.auth, send);
  const base = settings.url.replace(/\/$/, "");
  const call = async <T>(
    method: string,
    path: string,
    options: { query?: Json; body?: unknown; timeoutMs?: number } = {},
  ): Promise<Answer<T>> => {
    const url = new URL(`${base}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {}))
      url.searchParams.set(key, typeof value === "string" ? value : JSON.stringify(value));
    const auth = await authorize();
    const answer = await send(
      method,
      url,
      {
        accept: "application/json",
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(auth ? { authorization: auth } : {}),
      },
      options.body === undefined ? undefined : JSON.stringify(options.body),
      options.timeoutMs,
    );
    if (answer.status >= 400) {
      const said = answer.json<ErrorAnswer>();
      const message = said?.reason || said?.error || answer.text.slice(0, 200) || `HTTP ${answer.status}`;
      throw new StoreError(message, answer.status, answer.headers, said);
    }
    const result = answer.json<T>();
    if (result === undefined) {
      throw new StoreError(`${method} ${path}: answered ${answer.status} without a JSON body`, answer.status);
    }
    return { status: answer.status, headers: answer.headers, result };
  };
  const db = (name: string) => `/${encodeURIComponent(name)}`;
  const converted = async <R, T>(answer: Promise<Answer<R>>, convert: (raw: R) => T): Promise<Answer<T>> => {
    const got = await answer;
    return { ...got, result: convert(got.result) };
  };
  return {
    getServerInformation: () => call("GET", "/"),
    putDatabase: (p) => call("PUT", db(p.db)),
    deleteDatabase: (p) => call("DELETE", db(p.db)),
    getDatabaseInformation: (p) => call("GET", db(p.db)),
    getDocument: (p) => call("GET", `${db(p.db)}/${segment(p.docId)}`),
    putDocument: (p) => call("PUT", `${db(p.db)}/${segment(p.docId)}`, { body: p.document }),
    deleteDocument: (p) => call("DELETE", `${db(p.db)}/${segment(p.docId)}`, { query: { rev: p.rev } }),
    postBulkDocs: (p) => call("POST", `${db(p.db)}/_bulk_docs`, { body: { docs: p.bulkDocs.docs } }),
    postAllDocs: <D>({ db: name, ...query }: { db: string } & AllDocsQuery) =>
      converted(call<WireAllDocs<D>>("POST", `${db(name)}/_all_docs`, { body: wire(query, ALL_DOCS_NAMES) }), (raw) =>
        allDocsResult(raw),
      ),
    postAllDocsQueries: <D>({ db: name, queries }: { db: string; queries: AllDocsQuery[] }) =>
      converted(
        call<{ results: WireAllDocs<D>[] }>("POST", `${db(name)}/_all_docs/queries`, {
          body: { queries: queries.map((query) => wire({ ...query }, ALL_DOCS_NAMES)) },
        }),
        (raw) => ({ results: raw.results.map((result) => allDocsResult(result)) }),
      ),
    postFind: ({ db: name, ...request }) =>
      call("POST", `${db(name)}/_find`, { body: wire(request, { useIndex: "use_index" }) }),
    postIndex: ({ db: name, ...index }) => call("POST", `${db(name)}/_index`, { body: index }),
    getIndexesInformation: (p) =>
      converted(call<WireIndexes>("GET", `${db(p.db)}/_index`), (raw) => ({
        totalRows: raw.total_rows,
        indexes: raw.indexes,
      })),
    postChanges: <D>({ db: name, selector, timeout, ...query }: Parameters<Cloudant["postChanges"]>[0]) =>
      converted(
        call<WireChanges<D>>(selector ? "POST" : "GET", `${db(name)}/_changes`, {
          query: wire({ ...query, timeout }, { includeDocs: "include_docs" }),
          ...(selector ? { body: { selector } } : {}),
          // A longpoll waits up to its timeout for a change: the request may take that much longer.
          timeoutMs: (timeout ?? 0) + REQUEST_TIMEOUT_MS,
        }),
        (raw) => ({ lastSeq: raw.last_seq, pending: raw.pending, results: raw.results ?? [] }),
      ),
  };
}

/** Creates the database unless it exists (412 from the server means it does). */
export async function ensureDatabase(client: Cloudant, db: string): Promise<"created" | "existed"> {
  try {
    await client.putDatabase({ db });
    return "created";
  } catch (err) {
    if (statusOf(err) === 412) return "existed";
    throw err;
  }
}
