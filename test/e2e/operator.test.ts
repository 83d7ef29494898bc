// The operator's command side end to end: a local OpenWhisk, the real Kafka and store of the running stack, the
// components built into dist/ and deployed in the package `saga`, the compositions made by composer's own
// `compose` and `deploy` CLIs (scripts/deploy-compositions.ts), and every call over HTTP to the web actions.
// The commands are recorded in private databases and published on private topics (bound as the package's
// operator_* settings): the saga's own databases and topics are reset by other tests while this one runs, and
// nothing here may reach a saga running on the same stack. The private databases are deleted at the end.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { Admin } from "kafkajs";
import openwhisk from "openwhisk";
import { catalog } from "../../functions/events.ts";
import { REMEDY } from "../../functions/monitoring/detection.ts";
import { evolve, project } from "../../functions/workorders/saga.ts";
import { rootEventId } from "../../lib/events/derived-id.ts";
import { type CloudEvent, idempotencyKey } from "../../lib/events/envelope.ts";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { commitDocId, ensureStepIndexes, keyDigest } from "../../lib/step/documents.ts";
import { replay, type StreamCommitDoc } from "../../lib/step/index.ts";
import { readDocs } from "../../lib/step/tools.ts";
import { type Cloudant, ensureDatabase } from "../../lib/store/client.ts";
import { defaultProviders } from "../../local/feeds/index.ts";
import { type LocalOpenWhisk, startLocalOpenWhisk } from "../../local/server.ts";
import { buildActions } from "../../scripts/build.ts";
import { composeAll, deployComponents, deployComposition } from "../../scripts/deploy-compositions.ts";
import { sagaEvent } from "../support/saga-events.ts";
import { kafkaSettings, storeSettings, testCloudant, testKafka, uniqueName } from "../support/services.ts";
import { readTopic } from "../support/topic-reader.ts";

const nonce = uniqueName("e2e");
const SECRET = `secret-${nonce}`;
const requestsTopic = `${nonce}-monitoring`;
const commandsTopic = `${nonce}-commands`;
/** Same formats as saga-monitoring and saga-workorders, created the same way. */
const requestsDb = `${nonce}-monitoring`;
const workordersDb = `${nonce}-workorders`;
const woId = (name: string) => `wo-${nonce}-${name}`;

interface Shared {
  healthy: LocalOpenWhisk;
  composed: Map<string, string>;
  cloudant: Cloudant;
}

let shared: Shared | undefined;
let admin: Admin | undefined;
const started: LocalOpenWhisk[] = [];
const dirs: string[] = [];

function context(): Shared {
  if (!shared) throw new Error("the setup failed: see test.before");
  return shared;
}

/** A local OpenWhisk with the package `saga` bound to these settings, the components and the compositions. */
async function deploySaga(composed: Map<string, string>, params: Record<string, string>): Promise<LocalOpenWhisk> {
  const ow = await startLocalOpenWhisk(
    { port: 0, limits: { invokesPerMinute: 1_000, concurrent: 100 } },
    defaultProviders(),
  );
  started.push(ow);
  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  const parameters = Object.entries(params).map(([key, value]) => ({ key, value }));
  await client.packages.create({ name: "saga", package: { parameters } });
  const target = { apiHost: ow.apiHost, auth: ow.auth };
  await deployComponents(target);
  for (const [name, file] of composed) await deployComposition(target, name, file, SECRET);
  return ow;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  ow: LocalOpenWhisk,
  action: "request-maintenance" | "cancel-workorder",
  body: unknown,
  options: { method?: string; secret?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const method = options.method ?? "POST";
  const secret = options.secret === undefined ? SECRET : options.secret;
  const response = await fetch(`${ow.apiHost}/api/v1/web/guest/saga/${action}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(secret ? { "x-require-whisk-auth": secret } : {}),
      ...options.headers,
    },
    ...(method === "GET" ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The events with this id on a topic (read from its beginning until it is quiet). */
async function eventsWithId(topic: string, id: unknown) {
  const records = await readTopic(topic, { quietMs: 1_500, timeoutMs: 30_000 });
  return records.filter((record) => (JSON.parse(record.value) as { id?: string }).id === id);
}

/** A work order's stream as the saga commits it (lib/step: rounds.ts, documents.ts): opened, then maybe finished. */
async function writeWorkOrder(cloudant: Cloudant, workOrderId: string, end: "open" | "scheduled" | "cancelled") {
  const incidentId = workOrderId.replace(/^wo-/, "");
  const common = { assetId: `pump-${nonce}`, site: "site-e2e", partType: "bearing", skill: "mechanical" };
  const now = new Date();
  const deadline = new Date(now.getTime() + 86_400_000).toISOString(); // far off: no deadline alarm touches it
  const day = deadline.slice(0, 10);
  const steps: Array<[CloudEvent, CloudEvent[]]> = [
    [
      sagaEvent("maintenance.requested", incidentId, {
        incidentId,
        ...common,
        problem: "stalled",
        requestedBy: "monitoring",
        detectedAt: now.toISOString(),
      }),
      [sagaEvent("workorder.opened", workOrderId, { workOrderId, incidentId, ...common, deadline })],
    ],
  ];
  if (end === "scheduled") {
    steps.push([
      sagaEvent("crew.assigned", workOrderId, { workOrderId, crewId: "crew-e2e", site: common.site, day }),
      [sagaEvent("workorder.scheduled", workOrderId, { workOrderId, partType: "bearing", crewId: "crew-e2e", day })],
    ]);
  }
  if (end === "cancelled") {
    steps.push([
      sagaEvent("part.unavailable", workOrderId, { workOrderId, partType: "bearing" }),
      [
        sagaEvent("workorder.cancelled", workOrderId, {
          workOrderId,
          site: common.site,
          partType: "bearing",
          reason: "no-part",
          detail: "no bearing in stock",
        }),
      ],
    ]);
  }
  const commits: StreamCommitDoc[] = [];
  for (const [input, emitted] of steps) {
    const seq = commits.length + 1;
    const commit: StreamCommitDoc = {
      _id: commitDocId(workOrderId, seq),
      kind: "commit",
      stream: workOrderId,
      seq,
      applied: [keyDigest(idempotencyKey(input))],
      entries: [{ input, emitted }],
      outbox: [],
      committedAt: now.getTime(),
    };
    const state = replay(evolve, [...commits, commit]).state;
    commits.push({ ...commit, ...(state ? { view: project(state) } : {}) });
  }
  await cloudant.postBulkDocs({ db: workordersDb, bulkDocs: { docs: commits as never[] } });
}

const privateParams = {
  operator_requests_topic: requestsTopic,
  operator_commands_topic: commandsTopic,
  operator_requests_database: requestsDb,
  operator_workorders_database: workordersDb,
};

/** The settings the package binds, as serverless.yml binds them from the environment. */
function kafkaParams(): Record<string, string> {
  const { KAFKA_BROKERS, KAFKA_SASL_USER, KAFKA_SASL_PASSWORD } = process.env;
  return {
    kafka_brokers_sasl: KAFKA_BROKERS ?? "",
    ...(KAFKA_SASL_USER && KAFKA_SASL_PASSWORD ? { user: KAFKA_SASL_USER, password: KAFKA_SASL_PASSWORD } : {}),
  };
}

function storeParams(): Record<string, string> {
  const names = {
    cloudant_url: "CLOUDANT_URL",
    cloudant_apikey: "CLOUDANT_APIKEY",
    cloudant_username: "CLOUDANT_USERNAME",
    cloudant_password: "CLOUDANT_PASSWORD",
  };
  return Object.fromEntries(
    Object.entries(names).flatMap(([param, name]) => (process.env[name] ? [[param, process.env[name]]] : [])),
  );
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

test.before(async () => {
  kafkaSettings(); // fails (never skips) without the stack's settings
  storeSettings();
  const cloudant = testCloudant();
  for (const db of [requestsDb, workordersDb]) {
    await ensureDatabase(cloudant, db);
    await ensureStepIndexes(cloudant, db);
  }
  admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic: requestsTopic, partitions: 1 },
    { topic: commandsTopic, partitions: 1 },
  ]);
  await buildActions(() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "operator-e2e-"));
  dirs.push(dir);
  const composed = await composeAll(dir);
  const healthy = await deploySaga(composed, { ...kafkaParams(), ...storeParams(), ...privateParams });
  await writeWorkOrder(cloudant, woId("open"), "open");
  await writeWorkOrder(cloudant, woId("open-outage"), "open");
  await writeWorkOrder(cloudant, woId("scheduled"), "scheduled");
  await writeWorkOrder(cloudant, woId("cancelled"), "cancelled");
  shared = { healthy, composed, cloudant };
});

test.after.always(async () => {
  await Promise.all(started.map((ow) => ow.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await admin?.deleteTopics({ topics: [requestsTopic, commandsTopic] }).catch(() => undefined);
  await admin?.disconnect();
  if (!process.env.CLOUDANT_URL) return;
  const cloudant = testCloudant();
  for (const db of [requestsDb, workordersDb]) await cloudant.deleteDatabase({ db }).catch(() => undefined);
});

test("request-maintenance: 202 with the work order; one maintenance.requested by the operator, however often asked", async (t) => {
  const { healthy } = context();
  const requestId = `${nonce}-first`;
  const request = { assetId: `pump-${nonce}`, site: "site-e2e", problem: "overheating", note: "loud", requestId };
  const first = await call(healthy, "request-maintenance", request);
  t.is(first.status, 202, JSON.stringify(first.body));
  t.like(first.body, {
    status: "accepted",
    requestId,
    incidentId: `op-${requestId}`,
    workOrderId: `wo-op-${requestId}`,
    eventId: rootEventId(`operator-request:${requestId}`),
    replayed: false,
  });
  const again = await call(healthy, "request-maintenance", request);
  t.is(again.status, 202, JSON.stringify(again.body));
  t.like(again.body, { workOrderId: `wo-op-${requestId}`, eventId: first.body.eventId, replayed: true });

  const records = await eventsWithId(requestsTopic, first.body.eventId);
  t.is(records.length, 1, "published once");
  const parsed = catalog.parse(JSON.parse(records[0]?.value ?? "null"));
  if (!parsed.ok) return t.fail(parsed.message);
  t.is(parsed.event.type, "maintenance.requested");
  t.is(records[0]?.key, `op-${requestId}`);
  t.like(parsed.event, { source: "/ow-saga/operator", subject: `op-${requestId}`, sagaid: `op-${requestId}` });
  t.like(parsed.event.data, {
    incidentId: `op-${requestId}`,
    assetId: `pump-${nonce}`,
    site: "site-e2e",
    problem: "overheating",
    requestedBy: "operator",
    ...REMEDY.overheating,
  });

  // The same request id for something else is a conflict, not a second incident.
  const reused = await call(healthy, "request-maintenance", { ...request, problem: "stalled" });
  t.is(reused.status, 409, JSON.stringify(reused.body));
  t.is(reused.body.field, "requestId");
});

test("request-maintenance without a request id: derived from the request, so a retried call is the same incident", async (t) => {
  const { healthy } = context();
  const request = { assetId: `pump-${nonce}-derived`, site: "site-e2e", problem: "stalled" };
  const first = await call(healthy, "request-maintenance", request);
  t.is(first.status, 202, JSON.stringify(first.body));
  const retried = await call(healthy, "request-maintenance", request);
  t.is(retried.status, 202, JSON.stringify(retried.body));
  t.like(retried.body, {
    requestId: first.body.requestId,
    workOrderId: first.body.workOrderId,
    eventId: first.body.eventId,
    replayed: true,
  });
  const other = await call(healthy, "request-maintenance", { ...request, note: "a second look" });
  t.is(other.status, 202, JSON.stringify(other.body));
  t.not(other.body.requestId, first.body.requestId);
  const keyed = await call(healthy, "request-maintenance", request, { headers: { "idempotency-key": `${nonce}-key` } });
  t.is(keyed.status, 202, JSON.stringify(keyed.body));
  t.is(keyed.body.requestId, `${nonce}-key`);

  t.is((await eventsWithId(requestsTopic, first.body.eventId)).length, 1, "one event for the retried request");
});

test("invalid input answers 400 naming the field; callers cannot set what the deployment binds", async (t) => {
  const { healthy } = context();
  const valid = { assetId: `pump-${nonce}`, site: "site-e2e", problem: "cavitation" };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["no assetId", { ...valid, assetId: undefined }, "assetId"],
    ["blank site", { ...valid, site: "  " }, "site"],
    ["unknown problem", { ...valid, problem: "leaking" }, "problem"],
    ["bad request id", { ...valid, requestId: "no spaces please" }, "requestId"],
    ["note not a string", { ...valid, note: 42 }, "note"],
  ];
  for (const [what, body, field] of cases) {
    const answer = await call(healthy, "request-maintenance", body);
    t.is(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
    t.is(answer.body.field, field, what);
    t.regex(String(answer.body.error), new RegExp(`^${field}: `), what);
  }
  const notAnObject = await call(healthy, "request-maintenance", ["overheating"]);
  t.is(notAnObject.status, 400);
  t.is(notAnObject.body.field, "body");
  const cancels: Array<[Record<string, unknown>, string]> = [
    [{ workOrderId: woId("open"), requestedBy: "op" }, "reason"],
    [{ workOrderId: "12", reason: "r", requestedBy: "op" }, "workOrderId"],
    [{ workOrderId: woId("open"), reason: "r" }, "requestedBy"],
  ];
  for (const [body, field] of cancels) {
    const answer = await call(healthy, "cancel-workorder", body);
    t.is(answer.status, 400, JSON.stringify(answer.body));
    t.is(answer.body.field, field);
  }
  const get = await call(healthy, "request-maintenance", undefined, { method: "GET" });
  t.is(get.status, 405);
  t.is(get.headers.get("allow"), "POST");
  t.is((await call(healthy, "request-maintenance", valid, { secret: null })).status, 401);
  // The conductor's resume state and the bound settings are final: a request cannot forge or redirect them.
  const forged = { ...valid, $resume: { state: 3, stack: [] } };
  t.is((await call(healthy, "request-maintenance", forged)).status, 400);
  t.is((await call(healthy, "request-maintenance", { ...valid, operator_requests_topic: "pump.assets" })).status, 400);
  t.is((await call(healthy, "cancel-workorder", { workOrderId: woId("x"), cloudant_url: "http://x:1" })).status, 400);
});

test("cancel-workorder: 404 unknown, 409 terminal, 202 and one workorder.cancel.requested for an open order", async (t) => {
  const { healthy } = context();
  const cancel = (workOrderId: string) =>
    call(healthy, "cancel-workorder", { workOrderId, reason: "pump replaced", requestedBy: "operator-e2e" });
  const unknown = await cancel(woId("unknown"));
  t.is(unknown.status, 404, JSON.stringify(unknown.body));
  t.is(unknown.body.field, "workOrderId");
  const scheduled = await cancel(woId("scheduled"));
  t.is(scheduled.status, 409, JSON.stringify(scheduled.body));
  t.is(scheduled.body.status, "scheduled");
  const cancelled = await cancel(woId("cancelled"));
  t.is(cancelled.status, 409, JSON.stringify(cancelled.body));
  t.like(cancelled.body, { status: "cancelled", cancelReason: "no-part" });

  const first = await cancel(woId("open"));
  t.is(first.status, 202, JSON.stringify(first.body));
  t.like(first.body, { status: "cancel-requested", workOrderId: woId("open"), replayed: false });
  const again = await cancel(woId("open"));
  t.is(again.status, 202, JSON.stringify(again.body));
  t.like(again.body, { eventId: first.body.eventId, replayed: true });

  const records = await eventsWithId(commandsTopic, first.body.eventId);
  t.is(records.length, 1, "published once");
  t.is(records[0]?.key, woId("open"));
  const parsed = catalog.parse(JSON.parse(records[0]?.value ?? "null"));
  if (!parsed.ok) return t.fail(parsed.message);
  t.like(parsed.event, {
    type: "workorder.cancel.requested",
    subject: woId("open"),
    sagaid: `${nonce}-open`,
    data: { workOrderId: woId("open"), reason: "pump replaced", requestedBy: "operator-e2e" },
  });
});

test("503 while Kafka or the store is unreachable; the recorded request goes out on a retry once Kafka is back", async (t) => {
  const { composed, cloudant, healthy } = context();
  const noKafka = { kafka_brokers_sasl: `127.0.0.1:${await deadPort()}`, ...storeParams(), ...privateParams };
  const ow = await deploySaga(composed, noKafka);

  const requestId = `${nonce}-outage`;
  const request = { assetId: `pump-${nonce}`, site: "site-e2e", problem: "overcurrent", requestId };
  const down = await call(ow, "request-maintenance", request);
  t.is(down.status, 503, JSON.stringify(down.body));
  t.is(down.body.service, "kafka");
  t.regex(String(down.body.error), /is recorded/);
  t.truthy(down.headers.get("retry-after"));
  const pending = (await readDocs(cloudant, requestsDb, [`operator-request:${requestId}`])).get(
    `operator-request:${requestId}`,
  );
  t.is(pending?.outbox.length, 1, "the event waits in the outbox, where the relay finds it");
  const cancel = async (workOrder: string) => {
    const answer = await call(ow, "cancel-workorder", {
      workOrderId: woId(workOrder),
      reason: "outage",
      requestedBy: "operator-e2e",
    });
    t.is(answer.status, 503, JSON.stringify(answer.body));
    return answer.body.service;
  };
  t.is(await cancel("open-outage"), "kafka");

  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  const noStore = { ...noKafka, cloudant_url: `http://127.0.0.1:${await deadPort()}` };
  const parameters = Object.entries(noStore).map(([key, value]) => ({ key, value }));
  await client.packages.update({ name: "saga", package: { parameters } });
  const storeDown = await call(ow, "request-maintenance", { ...request, requestId: `${nonce}-nostore` });
  t.is(storeDown.status, 503, JSON.stringify(storeDown.body));
  t.is(storeDown.body.service, "store");
  t.is(await cancel("open"), "store");

  // Kafka back (the healthy deployment, same store): the retry publishes the recorded event, once.
  const retried = await call(healthy, "request-maintenance", request);
  t.is(retried.status, 202, JSON.stringify(retried.body));
  t.like(retried.body, { requestId, replayed: true, eventId: rootEventId(`operator-request:${requestId}`) });
  t.is((await eventsWithId(requestsTopic, retried.body.eventId)).length, 1);
});
