// End to end on the local OpenWhisk, the real Kafka and the store, deployed with the real `serverless deploy`:
// a simulated fleet with every kind of anomaly, then the same fleet with every record produced twice and steps
// killed right after their writes. When the system is quiet, every invariant holds and the outcomes match.
import { randomBytes } from "node:crypto";
import { Agent } from "node:https";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import openwhisk from "openwhisk";
import { createKafka } from "../../lib/kafka/client.ts";
import { type ProbeCheck, probeExposure } from "../../scripts/probe/exposure.ts";
import { printReport, type SagaReport } from "../../scripts/report/invariants.ts";
import { resetSaga } from "../../scripts/saga/reset.ts";
import { runSaga } from "../../scripts/saga/run.ts";
import { type RunningSystem, type SystemOptions, startSystem } from "../../scripts/saga/system.ts";
import { DEFAULTS } from "../../scripts/simulator/options.ts";
import { stackDir } from "../../scripts/stack/paths.ts";
import { eventStreamsEnv, kafkaSettings, storeEnv, storeSettings, testCloudant } from "../support/services.ts";
import { type DashboardSeen, seeDashboard } from "./dashboard.ts";

function stackEnv(): Record<string, string> {
  return { KAFKA_BROKERS: kafkaSettings().brokers.join(","), ...storeEnv() };
}

async function freshRun(
  t: { log: (...values: unknown[]) => void; teardown: (fn: () => Promise<void>) => void },
  policies: SystemOptions["policies"],
  simulation: Partial<typeof DEFAULTS>,
  env: Record<string, string> = stackEnv(),
  /** Looks at the running system after the report, before it stops. */
  probe?: (system: RunningSystem) => Promise<void>,
  /** The local OpenWhisk over HTTPS, as a real deployment's API host. */
  https = false,
) {
  const admin = createKafka(kafkaSettings()).admin();
  await admin.connect();
  await resetSaga(admin, testCloudant(), { brokers: kafkaSettings().brokers, storeUrl: storeSettings().url });
  await admin.disconnect();
  const log = (line: string) => t.log(line);
  const system = await startSystem({ env, policies, kafkaBatchMs: 1000, log, https });
  t.teardown(system.stop);
  const run = await runSaga(env, { ...DEFAULTS, ...simulation }, { log, quietTimeoutMs: 240_000 });
  const platform = await platformFacts(system);
  await probe?.(system);
  await system.stop();
  printReport(run.report, log);
  log(
    `containers killed after a write: ${platform.killed}; the relay published ${platform.relayed} outbox events and re-sent ${platform.resent} records of abandoned batches`,
  );
  return { ...run, ...platform };
}

type Activation = { response: { status: string; result?: { databases?: { published: number; resent: number }[] } } };

/** From the platform's own records: step activations that died (developer errors) and what the relay published. */
async function platformFacts(system: RunningSystem) {
  const client = openwhisk({
    apihost: system.ow.apiHost,
    api_key: system.ow.auth,
    ...(system.certificate ? { agent: new Agent({ ca: system.certificate }) } : {}),
  });
  const list = async (name: string) =>
    (await client.activations.list({ name, limit: 200, docs: true } as never)) as unknown as Activation[];
  const steps = ["assets-registry", "monitoring-detect", "workorders-saga", "parts-stock", "crews-roster"];
  const killed = (await Promise.all(steps.map(list)))
    .flat()
    .filter((a) => a.response.status === "action developer error");
  const relayDatabases = (await list("relay")).flatMap((a) => a.response.result?.databases ?? []);
  const relayed = relayDatabases.reduce((sum, d) => sum + d.published, 0);
  const resent = relayDatabases.reduce((sum, d) => sum + (d.resent ?? 0), 0);
  return { killed: killed.length, relayed, resent };
}

const holds = (report: SagaReport) => report.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.detail}`);

/** Every invariant held, every pump and reading arrived, and incidents went through the whole saga. */
function fleetWentThrough(t: ExecutionContext, report: SagaReport, readings: number, pumps: number) {
  t.deepEqual(holds(report), []);
  t.is(report.pumps, pumps);
  t.is(report.readings, readings);
  t.true(report.incidents > 0, "incidents went through the whole saga");
}

/** What must come out the same whatever the delivery: incidents, and how each work order ended. */
function outcome(report: SagaReport) {
  return { incidents: report.incidents, workOrders: report.workOrders, pumps: report.pumps, readings: report.readings };
}

test.serial(
  "a fleet with every kind of anomaly: scarce parts, scarce crews and short deadlines compensate, invariants hold, and the dashboard shows it in Chromium",
  async (t) => {
    t.timeout(600_000);
    let seen: DashboardSeen | undefined;
    const { report, simulation } = await freshRun(
      t,
      {
        workorderDeadlineMs: 5_000,
        deadlineCron: "*/2 * * * * *",
        relayCron: "*/5 * * * * *",
        stockDefault: 1,
        crewsCapacityPerDay: 1,
      },
      { pumps: 12, rate: 30, seconds: 15, faulty: 0.5, seed: "e2e-anomalies" },
      stackEnv(),
      async (system) => {
        seen = await seeDashboard(system.ow.apiHost, testCloudant(), join(stackDir, "dashboard.png"));
      },
    );
    t.deepEqual(holds(report), []);
    t.deepEqual(Object.keys(simulation.byProblem).sort(), [
      "cavitation",
      "overcurrent",
      "overheating",
      "pressure-drop",
      "stalled",
    ]);
    t.true(
      report.incidents >= simulation.faulty.filter((f) => f.reached).length,
      "every fault that developed raised an incident",
    );
    t.is(report.pumps, 12);
    t.is(report.readings, simulation.readings);

    if (!seen) return t.fail("the dashboard was not looked at");
    t.log(
      `dashboard: loaded and drawn in ${seen.loadMs} ms; refreshes ${seen.refresh.map((r) => `${r.ms} ms, ${(r.bytes / 1024).toFixed(1)} KiB`).join("; ")}`,
    );
    t.deepEqual(seen.errors, [], "no console error, no failed panel");
    t.true(seen.pump.stored.length > 0, `pump ${seen.pump.id} has readings`);
    t.deepEqual(seen.pump.charted, seen.pump.stored, `pump ${seen.pump.id}: the plot holds its stored readings`);
    t.deepEqual(seen.order.shown, seen.order.stored, `work order ${seen.order.id}: its timeline, in order`);
    t.true(
      seen.order.stored.some((entry) => entry.startsWith("emitted workorder.cancelled")),
      "the timeline shows the cancellation",
    );
    for (const [i, entry] of seen.order.stored.entries()) {
      // Events the platform's activations emitted name their activation; the simulator's come from outside.
      if (entry.startsWith("emitted")) t.regex(seen.order.activations[i] ?? "", /^[0-9a-f]{32}$/, entry);
    }
    t.is(seen.cancelled.shownStates.length, seen.cancelled.stored, "the filter lists every cancelled order");
    t.true(seen.cancelled.shownStates.every((state) => state === "cancelled"));
    t.true(seen.stockParts > 0 && seen.crewDays > 0, "stock and crew load are charted");
    t.true(seen.lagTriggers.includes("pump-metrics"), `lag per trigger: ${seen.lagTriggers.join(", ")}`);
    t.regex(seen.letters, /^\d+ kept/);
  },
);

test.serial(
  "deployed for IBM Event Streams (messageHubFeed, SASL_SSL, the admin API), the fleet ends as on a plain Kafka",
  async (t) => {
    t.timeout(600_000);
    // Deployed as for production: the operator's web actions require OPERATOR_WEB_SECRET.
    const secret = randomBytes(12).toString("hex");
    const env: Record<string, string> = {
      ...eventStreamsEnv(),
      ...storeEnv(),
      OPERATOR_WEB_SECRET: secret,
    };
    t.is(env.KAFKA_FEED, "messageHubFeed");
    const restock = (apiHost: string, headers: Record<string, string>) =>
      fetch(`${apiHost}/api/v1/web/guest/saga/parts-restock`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ partType: "cooling-fan", quantity: 2, deliveryId: "e2e-po-1" }),
      });
    const statuses: number[] = [];
    let checks: ProbeCheck[] = [];
    const { report, simulation } = await freshRun(
      t,
      { workorderDeadlineMs: 600_000, stockDefault: 100, crewsCapacityPerDay: 100, relayCron: "*/5 * * * * *" },
      { pumps: 8, rate: 30, seconds: 10, faulty: 0.5, seed: "e2e-event-streams" },
      env,
      async (system) => {
        const apiHost = system.ow.apiHost;
        statuses.push((await restock(apiHost, {})).status);
        statuses.push((await restock(apiHost, { "X-Require-Whisk-Auth": secret })).status);
        // Every web action as a stranger meets it: no setting can be set, no key comes back, commands need the secret.
        const keys = [system.ow.auth, ...system.ow.auth.split(":"), env.KAFKA_SASL_PASSWORD, env.CLOUDANT_PASSWORD];
        checks = await probeExposure({
          apiHost,
          namespace: system.ow.namespace,
          operatorSecret: secret,
          secrets: keys.filter((k): k is string => typeof k === "string"),
        });
      },
    );
    t.deepEqual(statuses, [401, 202], "the operator's web action requires the secret bound at deploy");
    t.log(`exposure probe: ${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed`);
    t.true(checks.length > 200, `${checks.length} checks`);
    t.deepEqual(
      checks.filter((c) => !c.ok).map((c) => `${c.action}: ${c.what}: ${c.detail}`),
      [],
      "every web action refuses a setting, carries no key, and every command needs the secret",
    );
    fleetWentThrough(t, report, simulation.readings, 8);
  },
);

test.serial(
  "on a real deployment's terms: the lossless feed over SASL_SSL, the API host over HTTPS; the fleet ends as anywhere",
  async (t) => {
    t.timeout(600_000);
    const env: Record<string, string> = { ...eventStreamsEnv(), ...storeEnv(), KAFKA_FEED: "lossless" };
    const { report, simulation } = await freshRun(
      t,
      { workorderDeadlineMs: 600_000, stockDefault: 100, crewsCapacityPerDay: 100, relayCron: "*/5 * * * * *" },
      { pumps: 8, rate: 30, seconds: 10, faulty: 0.5, seed: "e2e-real-terms" },
      env,
      async (system) => {
        t.regex(system.ow.apiHost, /^https:\/\//);
        // Over HTTPS, only a client that trusts the certificate is answered.
        await t.throwsAsync(fetch(`${system.ow.apiHost}/api/v1`));
      },
      true,
    );
    fleetWentThrough(t, report, simulation.readings, 8);
  },
);

test.serial(
  "the same fleet with every record produced twice and steps killed after their writes ends the same",
  async (t) => {
    t.timeout(900_000);
    const generous = {
      workorderDeadlineMs: 600_000,
      stockDefault: 100,
      crewsCapacityPerDay: 100,
      relayCron: "*/3 * * * * *",
    };
    const fleet = {
      pumps: 10,
      rate: 30,
      seconds: 12,
      faulty: 0.5,
      seed: "e2e-replay",
      startAt: Date.parse("2026-01-01T00:00:00Z"),
    };
    const baseline = await freshRun(t, generous, fleet);
    // About 35 first deliveries reach a write here, and only they are killed (re-sent batches always get through).
    // At 0.15 a run with no kill at all came up (the dice are Math.random in each container); at 0.3 it is about
    // one run in 200,000.
    const stressed = await freshRun(t, { ...generous, chaosExitAfterWrite: 0.3 }, { ...fleet, duplicate: true });
    t.deepEqual(holds(baseline.report), []);
    t.deepEqual(holds(stressed.report), []);
    t.true(stressed.report.duplicateDeliveries > 0, "duplicates were delivered and absorbed");
    t.true(stressed.killed > 0, "some steps were killed right after their write");
    // Every kill leaves the landed batch (the kill comes after a write, before the clear); an outbox is left only when
    // the killed step had emitted something, which depends on which step the dice picked.
    t.true(stressed.resent > 0, "the relay re-sent the batches of the killed activations");
    t.is(baseline.killed, 0);
    t.deepEqual(outcome(stressed.report), outcome(baseline.report));
  },
);

test.serial(
  "a step tried by hand with one event, as `wsk action invoke -P`, is applied once, and the web view shows it",
  async (t) => {
    t.timeout(300_000);
    const env = stackEnv();
    const admin = createKafka(kafkaSettings()).admin();
    await admin.connect();
    await resetSaga(admin, testCloudant(), { brokers: kafkaSettings().brokers, storeUrl: storeSettings().url });
    await admin.disconnect();
    const system = await startSystem({ env, log: (line) => t.log(line) });
    t.teardown(system.stop);
    const { execFile } = await import("node:child_process");
    const wsk = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ["bin/wsk.mjs", ...args],
          { env: { ...process.env, OW_APIHOST: system.ow.apiHost, OW_AUTH: system.ow.auth } },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
    const invoke = async () =>
      JSON.parse(
        await wsk("action", "invoke", "saga/workorders-saga", "-r", "-P", "examples/maintenance-requested.json"),
      ) as {
        counts: Record<string, number>;
      };
    t.like((await invoke()).counts, { applied: 1, "dead-lettered": 0 });
    t.like((await invoke()).counts, { applied: 0, duplicate: 1 });
    const view = await fetch(`${system.ow.apiHost}/api/v1/web/guest/saga/workorders-view?id=wo-manual-1`);
    t.is(view.status, 200);
    const body = (await view.json()) as {
      workOrder: { status: string };
      timeline: { type: string; role: string; activationid?: string }[];
    };
    t.is(body.workOrder.status, "open");
    t.deepEqual(
      body.timeline.map((e) => `${e.role} ${e.type}`),
      ["received maintenance.requested", "emitted workorder.opened"],
    );
    // The emitted event names the activation that made it: the platform has its record.
    const opened = body.timeline[1]?.activationid ?? "";
    t.regex(opened, /^[0-9a-f]{32}$/);
    const got = await wsk("activation", "get", opened);
    t.like(JSON.parse(got.slice(got.indexOf("\n") + 1)), { name: "workorders-saga" });
  },
);
