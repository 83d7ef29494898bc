// A start after any kind of stop: `npm start` SIGKILLed once it is up (its process group, as a closed terminal or
// an OOM kill does), then `npm start -- --once` right away, three times in a row, and once more on the lossless
// feed. The killed run's consumers never left their feed groups; each start after it must still deploy, run the
// fleet and report every invariant holding. Real npm start, real stack (the one npm test runs), real processes.
import { type ChildProcess, spawn } from "node:child_process";
import test from "ava";

const START = ["--import", "tsx", "scripts/start.ts"];
const fleet = (seconds: number) => ["--pumps", "4", "--seconds", String(seconds), "--seed", "restart"];

/** `npm start` in its own process group, its output collected. */
function start(args: string[]): { child: ChildProcess; output: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [...START, ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => output, done };
}

/** Until the run says it is up; its output when it is not (it ended, or took too long). */
async function untilUp(run: ReturnType<typeof start>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  let ended = false;
  void run.done.then(() => {
    ended = true;
  });
  while (!/Simulating \d+ pumps/.test(run.output())) {
    if (ended || Date.now() > end) throw new Error(`${what}:\n${run.output().slice(-3_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const rounds: { feed: string; flags: string[] }[] = [
  { feed: "OpenWhisk's feed", flags: [] },
  { feed: "OpenWhisk's feed", flags: [] },
  { feed: "OpenWhisk's feed", flags: [] },
  { feed: "the lossless feed", flags: ["--lossless"] },
];

test("npm start killed once it is up, then npm start -- --once at once: it deploys and every invariant holds, four times", async (t) => {
  t.timeout(1_800_000);
  for (const [i, { feed, flags }] of rounds.entries()) {
    const killed = start([...flags, ...fleet(120)]);
    await untilUp(killed, 300_000, `round ${i + 1}: the run to kill did not come up`);
    // Records are flowing through the feeds: their consumers are members of the triggers' groups.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    process.kill(-(killed.child.pid as number), "SIGKILL");
    await killed.done;

    const started = Date.now();
    const again = start(["--once", ...flags, ...fleet(5)]);
    const code = await again.done;
    const said = again.output();
    t.log(
      `round ${i + 1} (${feed}): the next start exited ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    const waited = /Waiting for the consumers a stopped run left in (\d+) feed group/.exec(said);
    if (waited) t.log(`  it waited for the killed run's consumers in ${waited[1]} feed groups`);
    t.is(code, 0, said.slice(-3_000));
    t.regex(said, /Deployed\./, `round ${i + 1}: deployed`);
    t.notRegex(said, /BROKEN/, `round ${i + 1}: every invariant holds`);
    t.regex(said, /HOLDS {2}exactly one terminal work order per maintenance request/);
  }
});
