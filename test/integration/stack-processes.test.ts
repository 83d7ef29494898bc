// A server that does not become ready in time is stopped, with its log's end in the error: a failed start leaves
// nothing running.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { isAlive, StackError, startDetached, stopGroup, waitUntilReady } from "../../scripts/stack/processes.ts";

test("a server not ready in time is stopped, and the error carries the end of its log", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "stack-proc-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, "server.log");
  const pid = startDetached(
    process.execPath,
    ["-e", "console.log('listening, but never ready'); setInterval(() => {}, 1000)"],
    logFile,
  );
  t.teardown(() => (isAlive(pid) ? stopGroup(pid, 1_000) : undefined));
  const error = await t.throwsAsync(
    waitUntilReady({ what: "the test server", pid, logFile, timeoutMs: 1_500, ready: async () => false }),
    { instanceOf: StackError },
  );
  t.regex(error?.message ?? "", /the test server was not ready after 1\.5 s:\nlistening, but never ready/);
  t.false(isAlive(pid), "the process is gone");
});

test("a server that exits during start-up is reported with its log", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "stack-proc-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, "server.log");
  const pid = startDetached(process.execPath, ["-e", "console.log('port in use'); process.exit(3)"], logFile);
  const error = await t.throwsAsync(
    waitUntilReady({ what: "the test server", pid, logFile, timeoutMs: 10_000, ready: async () => false }),
    { instanceOf: StackError },
  );
  t.regex(error?.message ?? "", /the test server exited during start-up:\nport in use/);
});
