// Provisioning against the real Kafka and store, with a plan of its own: a dry run changes nothing, a run creates
// everything, a second run finds everything in place; 429s with Retry-After are waited out; a missing permission
// is one line; too few partitions are refused. And `npm run provision -- --dry-run` through its command line.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import test from "ava";
import { ensureTopics } from "../../lib/kafka/client.ts";
import { type ProvisionPlan, provision } from "../../lib/provisioner.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { dropDatabase, storeSettings, testCloudant, testKafka, uniqueName } from "../support/services.ts";

function planFor(name: string): ProvisionPlan {
  return {
    topics: [
      { topic: `${name}.events`, partitions: 3, retentionMs: 7 * 86_400_000 },
      { topic: `${name}.deadletter`, partitions: 1, retentionMs: 30 * 86_400_000 },
    ],
    databases: [{ name, indexes: [{ ddoc: "kit", name: "by-kind", fields: ["kind", "at"] }] }],
    coverage: [
      {
        name: "a.step",
        database: name,
        retryTopic: `${name}.events`,
        deadLetterTopic: `${name}.deadletter`,
        sources: [{ topic: `${name}.events`, trigger: "t" }],
      },
    ],
  };
}

async function withAdmin(t: import("ava").ExecutionContext) {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  return admin;
}

test("a dry run changes nothing; a run creates everything; a second run finds everything in place", async (t) => {
  const name = uniqueName("provision");
  const plan = planFor(name);
  const admin = await withAdmin(t);
  const cloudant = testCloudant();
  t.teardown(async () => {
    await admin.deleteTopics({ topics: plan.topics.map((p) => p.topic) }).catch(() => {});
    await cloudant.deleteDatabase({ db: name }).catch(() => {});
  });
  const dry = await provision(plan, { admin, cloudant }, { dryRun: true });
  t.true(
    dry.every((c) => c.kind === "would create"),
    JSON.stringify(dry),
  );
  t.false((await admin.listTopics()).includes(`${name}.events`), "the dry run created nothing");

  const first = await provision(plan, { admin, cloudant });
  t.deepEqual(
    first.map((c) => `${c.kind} ${c.what}`),
    ["created topic", "created topic", "created database", "created index", "created coverage"],
  );
  const retention = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, name: `${name}.deadletter`, configNames: ["retention.ms"] }],
  });
  t.is(retention.resources[0]?.configEntries[0]?.configValue, String(30 * 86_400_000));
  const second = await provision(plan, { admin, cloudant });
  t.true(
    second.every((c) => c.kind === "unchanged"),
    JSON.stringify(second.filter((c) => c.kind !== "unchanged")),
  );
});

test("the store's 429s with Retry-After are waited out; its 403 is one line saying what to do", async (t) => {
  const name = uniqueName("provision-429");
  const plan = { ...planFor(name), topics: [], coverage: [] };
  const admin = await withAdmin(t);
  let refused = 0;
  const busy = await startStoreProxy(storeSettings().url, {
    intercept: () =>
      refused++ % 3 === 0
        ? { status: 429, body: { error: "too_many_requests" }, headers: { "retry-after": "1" } }
        : undefined,
  });
  t.teardown(() => busy.close());
  t.teardown(() => dropDatabase(name));
  const started = Date.now();
  const changes = await provision(plan, {
    admin,
    cloudant: createCloudant({ url: busy.url, auth: storeSettings().auth }),
  });
  t.true(busy.stats.intercepted >= 2, `429s answered: ${busy.stats.intercepted}`);
  t.true(Date.now() - started >= 1_000, "Retry-After: 1 was honoured");
  t.true(changes.some((c) => c.what === "database" && c.kind === "created"));

  const forbidden = await startStoreProxy(storeSettings().url, {
    intercept: (request) => (request.method === "PUT" ? { status: 403, body: { error: "forbidden" } } : undefined),
  });
  t.teardown(() => forbidden.close());
  const other = { ...plan, databases: [{ name: uniqueName("provision-403"), indexes: [] }] };
  await t.throwsAsync(
    provision(other, { admin, cloudant: createCloudant({ url: forbidden.url, auth: storeSettings().auth }) }),
    {
      name: "ProvisionError",
      message: /forbids the credentials to create database .* \(403\): use an IAM key with the Manager role/,
    },
  );
});

test("a topic with fewer partitions than planned is refused, not grown (keys would move)", async (t) => {
  const name = uniqueName("provision-partitions");
  const admin = await withAdmin(t);
  // ensureTopics waits for the new topic's leader itself: KafkaJS's own wait can fail on the broker's "unknown topic".
  await ensureTopics(admin, [{ topic: `${name}.events`, partitions: 1 }]);
  t.teardown(() => admin.deleteTopics({ topics: [`${name}.events`] }).catch(() => {}));
  const plan = { ...planFor(name), topics: [{ topic: `${name}.events`, partitions: 3 }], databases: [], coverage: [] };
  await t.throwsAsync(provision(plan, { admin, cloudant: testCloudant() }), {
    message: /has 1 partitions, 3 wanted: adding partitions would reorder each entity's events/,
  });
});

test("npm run provision -- --dry-run reads the target and says what it would change", async (t) => {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/provision.ts", "--dry-run"], {
    env: process.env,
  });
  t.regex(stdout, /dry run: nothing is changed/);
  t.regex(stdout, /(would create|unchanged) +topic +pump\.metrics/);
  t.regex(stdout, /change\(s\) would be made/);
});
