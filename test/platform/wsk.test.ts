// `npx wsk …` through its bin (bin/wsk.mjs), against a local OpenWhisk started here: every verb, wsk's output
// formats, and where the credentials come from.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runBin } from "../support/run-script.ts";
import { eventually, startOw } from "./helpers.ts";

const BIN = "bin/wsk.mjs";

/** A home whose ~/.wskprops names another host, and the local OpenWhisk's props where the test says. */
function sandbox(localProps: string) {
  const home = mkdtempSync(join(tmpdir(), "wsk-home-"));
  writeFileSync(join(home, ".wskprops"), "APIHOST=http://127.0.0.1:9\nAUTH=not-the-local-key\n");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, WSK_LOCAL_PROPS: localProps };
  return (...args: string[]) => runBin(BIN, args, env);
}

async function started(t: Parameters<typeof startOw>[0]) {
  const dir = mkdtempSync(join(tmpdir(), "wsk-local-"));
  const props = join(dir, "wskprops");
  const s = await startOw(t, { wskpropsPath: props });
  const actionFile = join(dir, "hello.js");
  writeFileSync(
    actionFile,
    'function main(p) { console.log("hello " + p.name); if (p.fail) return { error: "asked to fail" }; return { greeting: "hi " + p.name }; }\n',
  );
  const paramFile = join(dir, "params.json");
  writeFileSync(paramFile, JSON.stringify({ name: "file" }));
  return { s, wsk: sandbox(props), actionFile, paramFile };
}

test("the local OpenWhisk's credentials come before ~/.wskprops, and the target is named on stderr", async (t) => {
  const { s, wsk } = await started(t);
  const listed = await wsk("namespace", "list");
  t.is(listed.code, 0, listed.stderr);
  t.is(listed.stdout, "namespaces\nguest\n");
  t.regex(listed.stderr, new RegExp(`^wsk: ${s.ow.apiHost} \\(from the local OpenWhisk`));
  const property = await wsk("property", "get");
  t.true(property.stdout.includes(`whisk API host\t\t${s.ow.apiHost}`));
  t.false(property.stdout.includes(s.ow.auth), "the key is not shown unless asked for");
  t.true((await wsk("property", "get", "--auth")).stdout.includes(`whisk auth\t\t${s.ow.auth}`));
  await s.ow.stop();
  // Stopped, it no longer answers: ~/.wskprops is next, and its host is named.
  const after = await wsk("namespace", "list");
  t.is(after.code, 1);
  t.regex(after.stderr, /^wsk: http:\/\/127\.0\.0\.1:9 \(from ~\/\.wskprops\)/);
  t.regex(after.stderr, /^error: /m);
});

test("--apihost and --auth win over every file; a wrong key is refused with the platform's message", async (t) => {
  const { s, wsk } = await started(t);
  const wrong = await wsk(
    "action",
    "list",
    "--apihost",
    s.ow.apiHost,
    "--auth",
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong",
  );
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /from --apihost\/--auth/);
  t.regex(wrong.stderr, /^error: .*(authenticat|authoriz)/im);
  const right = await wsk("-i", "action", "list", "--apihost", s.ow.apiHost, "--auth", s.ow.auth);
  t.is(right.code, 0, right.stderr);
  t.is(right.stdout, "actions\n");
});

test("action create, update, get, list, invoke (-r, -b, non-blocking) and delete, with wsk's flags", async (t) => {
  const { s, wsk, actionFile, paramFile } = await started(t);
  const create = await wsk(
    "action",
    "create",
    "hello",
    actionFile,
    "--kind",
    "nodejs:20",
    "--timeout",
    "5000",
    "--memory",
    "128",
    "-p",
    "name",
    "world",
    "-a",
    "owner",
    "ops",
  );
  t.is(create.stdout, "ok: created action hello\n", create.stderr);
  t.is((await wsk("action", "create", "hello", actionFile)).code, 1, "creating it again is a conflict");
  t.is(
    (await wsk("action", "update", "hello", "--web", "true", "--memory", "256")).stdout,
    "ok: updated action hello\n",
  );
  const got = await wsk("action", "get", "hello");
  t.regex(got.stdout, /^ok: got action hello\n/);
  const action = JSON.parse(got.stdout.slice(got.stdout.indexOf("\n") + 1)) as {
    limits: { timeout: number; memory: number };
    annotations: { key: string; value: unknown }[];
    parameters: { key: string; value: unknown }[];
  };
  t.like(action.limits, { timeout: 5000, memory: 256 }, "an update keeps what it does not change");
  const notes = Object.fromEntries(action.annotations.map((a) => [a.key, a.value]));
  t.like(notes, { "web-export": true, final: true, "raw-http": false, exec: "nodejs:20" });
  t.deepEqual(action.parameters, [{ key: "name", value: "world" }]);
  t.true(got.stdout.includes('\n    "name": "hello"'), "JSON indented by 4 spaces, as wsk prints it");
  t.regex((await wsk("action", "list")).stdout, /^actions\n\/guest\/hello {2,}private nodejs:20\n$/);

  t.is((await wsk("action", "update", "hello", "--web", "false")).code, 0);
  t.is((await wsk("action", "invoke", "hello", "-r")).stdout, '{\n    "greeting": "hi world"\n}\n');
  const blocking = await wsk("action", "invoke", "hello", "-b", "-P", paramFile);
  t.regex(blocking.stdout, /^ok: invoked \/_\/hello with id [0-9a-f]{32}\n\{/);
  t.true(blocking.stdout.includes('"greeting": "hi file"'));
  t.regex((await wsk("action", "invoke", "hello")).stdout, /^ok: invoked \/_\/hello with id [0-9a-f]{32}\n$/);
  const failed = await wsk("action", "invoke", "hello", "-r", "-p", "fail", "true");
  t.is(failed.code, 1, "a failed activation fails the command");
  t.is(failed.stdout, '{\n    "error": "asked to fail"\n}\n');
  t.regex(failed.stderr, /^error: Unable to invoke action 'hello'/m);

  t.is((await wsk("action", "delete", "hello")).stdout, "ok: deleted action hello\n");
  const gone = await wsk("action", "get", "hello");
  t.is(gone.code, 1);
  t.regex(gone.stderr, /^error: The requested resource does not exist\./m);
  t.truthy(s);
});

test("activation list, get, logs, result, --last, --skip, --limit, and poll until --exit", async (t) => {
  const { s, wsk, actionFile } = await started(t);
  await wsk("action", "create", "hello", actionFile, "-p", "name", "a");
  const ids: string[] = [];
  for (const name of ["one", "two", "three"]) {
    const ran = (await s.client.actions.invoke({ name: "hello", params: { name }, blocking: true })) as {
      activationId: string;
    };
    ids.push(ran.activationId);
  }
  const table = (await wsk("activation", "list", "hello", "--limit", "2")).stdout.trimEnd().split("\n");
  t.regex(table[0] ?? "", /^Datetime {12}Activation ID {20}Kind {6}Start Duration {3}Status {12}Entity$/);
  t.is(table.length, 3);
  t.regex(
    table[1] ?? "",
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ids[2]} nodejs:20 (cold|warm) +\\d+ms +success +guest/hello:0\\.0\\.1$`,
    ),
  );
  t.true(table[2]?.includes(ids[1] ?? "-"));
  const skipped = (await wsk("activation", "list", "--skip", "2", "--limit", "1")).stdout;
  t.true(skipped.includes(ids[0] ?? "-"));
  const last = await wsk("activation", "get", "--last");
  t.regex(last.stdout, new RegExp(`^ok: got activation ${ids[2]}\\n`));
  t.regex((await wsk("activation", "logs", ids[0] ?? "")).stdout, /^\S+ stdout: hello one\n$/);
  t.is((await wsk("activation", "result", "--last")).stdout, '{\n    "greeting": "hi three"\n}\n');

  let polling = true;
  const poll = wsk("activation", "poll", "hello", "--exit", "8").finally(() => {
    polling = false;
  });
  // The poll shows what starts after it began, and a loaded machine takes seconds to start wsk: invoke until the
  // poll ends, so some invocations always fall within its 8 s.
  const fresh: string[] = [];
  while (polling) {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const ran = (await s.client.actions.invoke({ name: "hello", params: { name: "polled" }, blocking: true })) as {
      activationId: string;
    };
    fresh.push(ran.activationId);
  }
  const polled = await poll;
  t.is(polled.code, 0, polled.stderr);
  t.true(polled.stdout.startsWith("Enter Ctrl-c to exit.\nPolling for activation logs"));
  t.true(
    fresh.some((id) => polled.stdout.includes(`Activation: 'hello' (${id})`)),
    polled.stdout,
  );
  t.true(polled.stdout.includes("stdout: hello polled"));
  t.false(polled.stdout.includes(ids[0] ?? "-"), "only activations since the poll began");
});

test("trigger create, get, list, fire and delete; rule create, list, get, disable and enable", async (t) => {
  const { s, wsk, actionFile } = await started(t);
  await wsk("action", "create", "hello", actionFile);
  t.is((await wsk("trigger", "create", "ping", "-p", "name", "trigger")).stdout, "ok: created trigger ping\n");
  t.regex((await wsk("trigger", "list")).stdout, /^triggers\n\/guest\/ping {2,}private\n$/);
  t.regex((await wsk("trigger", "get", "ping")).stdout, /^ok: got trigger ping\n\{\n {4}"namespace": "guest"/);
  t.is((await wsk("trigger", "fire", "ping")).stdout, "ok: triggered /_/ping, but no rule is active\n");
  t.is((await wsk("rule", "create", "ping-hello", "ping", "hello")).stdout, "ok: created rule ping-hello\n");
  t.regex((await wsk("rule", "list")).stdout, /^rules\n\/guest\/ping-hello {2,}private active\n$/);
  t.is((await wsk("rule", "disable", "ping-hello")).stdout, "ok: disabled rule ping-hello\n");
  t.regex((await wsk("rule", "get", "ping-hello")).stdout, /"status": "inactive"/);
  t.is((await wsk("trigger", "fire", "ping")).stdout, "ok: triggered /_/ping, but no rule is active\n");
  t.is((await wsk("rule", "enable", "ping-hello")).stdout, "ok: enabled rule ping-hello\n");
  const fired = await wsk("trigger", "fire", "ping", "-p", "name", "fired");
  t.regex(fired.stdout, /^ok: triggered \/_\/ping with id [0-9a-f]{32}\n$/);
  const ran = await eventually(async () => {
    const list = (await s.client.activations.list({ name: "hello", limit: 1 })) as { activationId: string }[];
    return list[0];
  });
  t.is((await wsk("activation", "result", ran.activationId)).stdout, '{\n    "greeting": "hi fired"\n}\n');
  t.is((await wsk("rule", "delete", "ping-hello")).stdout, "ok: deleted rule ping-hello\n");
  t.is((await wsk("trigger", "delete", "ping")).stdout, "ok: deleted trigger ping\n");
  t.is((await wsk("trigger", "get", "ping")).code, 1);

  // A feed trigger: created with its feed, which is told to delete it too.
  const tick = await wsk(
    "trigger",
    "create",
    "tick",
    "--feed",
    "/whisk.system/alarms/alarm",
    "-p",
    "cron",
    "0 0 1 1 *",
  );
  t.is(tick.stdout, "ok: created trigger tick\n", tick.stderr);
  t.regex((await wsk("trigger", "get", "tick")).stdout, /"key": "feed",\n\s+"value": "\/whisk.system\/alarms\/alarm"/);
  const badFeed = await wsk("trigger", "create", "tock", "--feed", "/whisk.system/alarms/alarm", "-p", "cron", "never");
  t.is(badFeed.code, 1, "the feed refused it");
  t.is((await wsk("trigger", "get", "tock")).code, 1, "and the trigger was taken back");
  t.is((await wsk("trigger", "delete", "tick")).stdout, "ok: deleted trigger tick\n");
});

test("package list, get and bind; namespace list", async (t) => {
  const { wsk } = await started(t);
  t.is((await wsk("package", "list")).stdout, "packages\n");
  const bound = await wsk("package", "bind", "/whisk.system/messaging", "kafka", "-p", "brokers", '["127.0.0.1:9092"]');
  t.is(bound.stdout, "ok: created binding kafka\n", bound.stderr);
  t.regex((await wsk("package", "list")).stdout, /^packages\n\/guest\/kafka {2,}private\n$/);
  const got = await wsk("package", "get", "kafka");
  const pkg = JSON.parse(got.stdout.slice(got.stdout.indexOf("\n") + 1)) as Record<string, unknown>;
  t.deepEqual(pkg.binding, { namespace: "whisk.system", name: "messaging" });
  t.deepEqual(pkg.parameters, [{ key: "brokers", value: ["127.0.0.1:9092"] }]);
  t.regex((await wsk("package", "list", "/whisk.system")).stdout, /\/whisk\.system\/messaging {2,}shared\n/);
  t.is((await wsk("namespace", "list")).stdout, "namespaces\nguest\n");
});

test("a wrong command gets one clear line and a non-zero exit", async (t) => {
  const { wsk } = await started(t);
  const cases: [string[], RegExp][] = [
    [["action", "frob"], /^error: unknown verb: wsk action list\|get\|create\|update\|delete\|invoke, not frob$/],
    [["action", "get"], /^error: a name is required: wsk action get NAME$/],
    [["action", "list", "--nope"], /^error: Unknown option '--nope'/],
    [["action", "invoke", "x", "-p", "only-key"], /^error: -p needs a key and a value: -p KEY VALUE$/],
    [["action", "update", "x", "--web", "maybe"], /^error: --web must be true, false or raw, not maybe$/],
    [["action", "update", "x", "--memory", "-5"], /^error: /],
    [["gadget", "list"], /^error: unknown command gadget/],
  ];
  for (const [args, message] of cases) {
    const ran = await wsk(...args);
    t.is(ran.code, 1, args.join(" "));
    t.regex(ran.stderr.split("\n").find((line) => line.startsWith("error:")) ?? "", message, args.join(" "));
  }
  const usage = await wsk();
  t.is(usage.code, 2);
  t.regex(usage.stdout, /^usage: wsk <noun> <verb>/);
  const help = await wsk("--help");
  t.is(help.code, 0, "--help is an answer, as wsk's own");
  t.regex(help.stdout, /^usage: wsk <noun> <verb>/);
});
