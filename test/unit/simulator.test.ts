import test from "ava";
import type { Message } from "kafkajs";
import { catalog, PROBLEMS } from "../../functions/events.ts";
import { TOPIC } from "../../functions/topology.ts";
import { UsageError } from "../../scripts/cli.ts";
import {
  type Fleet,
  type FleetOptions,
  fleetSummary,
  type Pump,
  planFleet,
  readingAt,
  readingEvent,
  registrationEvent,
  SITES,
} from "../../scripts/simulator/fleet.ts";
import { DEFAULTS, parseSimulateArgs, type SimulateOptions } from "../../scripts/simulator/options.ts";
import { mulberry32 } from "../../scripts/simulator/prng.ts";
import { type Progress, progressPrinter } from "../../scripts/simulator/progress.ts";
import { formatReport } from "../../scripts/simulator/report.ts";
import { kafkaPatience, simulate } from "../../scripts/simulator/run.ts";
import { HEALTHY_BAND, type Problem, type Reading } from "../../scripts/simulator/signatures.ts";

const START = Date.UTC(2026, 2, 1, 8, 0, 0);
const FIELDS = ["rotation", "current", "pressure", "flowRate", "temperature"] as const;

function allEvents(fleet: Fleet, startMs = START) {
  return [
    ...fleet.pumps.map((pump) => registrationEvent(fleet, pump, startMs)),
    ...Array.from({ length: fleet.totalReadings }, (_, k) => readingEvent(fleet, k, startMs)),
  ];
}

/** Every reading of one pump, with the time it is taken. */
function readingsOf(fleet: Fleet, pump: Pump) {
  const out: { offset: number; sequence: number; reading: Reading }[] = [];
  for (let k = pump.index; k < fleet.totalReadings; k += fleet.pumps.length) out.push(readingAt(fleet, k));
  return out;
}

const inBand = (reading: Reading, nominal: Reading) =>
  FIELDS.every((field) => Math.abs(reading[field] / nominal[field] - 1) <= HEALTHY_BAND);

/** The fully developed signature of each problem, as a detector would test it (see signatures.ts SIGNATURES). */
function matchesSignature(problem: Problem, r: Reading, n: Reading, previous?: Reading): boolean {
  switch (problem) {
    case "overheating":
      return r.temperature >= n.temperature + 30;
    case "pressure-drop":
      return r.pressure <= 0.55 * n.pressure && r.flowRate <= 0.6 * n.flowRate;
    case "overcurrent":
      return r.current >= 1.5 * n.current && Math.abs(r.rotation / n.rotation - 1) <= HEALTHY_BAND;
    case "cavitation":
      return (
        Math.abs(r.pressure / n.pressure - 1) >= 0.3 &&
        Math.abs(r.flowRate / n.flowRate - 1) <= 0.2 &&
        (previous === undefined || Math.abs(r.pressure - previous.pressure) >= 0.55 * n.pressure)
      );
    case "stalled":
      return r.rotation <= 0.03 * n.rotation && r.current >= 1.7 * n.current;
  }
}

/** A naive detector over one reading and its predecessor: which problems' signatures it shows. */
const problemsShown = (r: Reading, n: Reading, previous?: Reading) =>
  PROBLEMS.filter((problem) => matchesSignature(problem, r, n, previous));

const options = (overrides: Partial<FleetOptions> = {}): FleetOptions => ({
  seed: "unit",
  pumps: 20,
  faulty: 0.2,
  rate: 50,
  seconds: 30,
  ...overrides,
});

test("mulberry32 is deterministic and spreads over [0, 1)", (t) => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const drawn = Array.from({ length: 1000 }, () => a());
  t.deepEqual(
    drawn.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  t.true(drawn.every((x) => x >= 0 && x < 1));
  const mean = drawn.reduce((sum, x) => sum + x, 0) / drawn.length;
  t.true(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  t.notDeepEqual(mulberry32(43)(), mulberry32(42)());
});

test("the same seed and start give the same events and ids; another seed or start gives other ids", (t) => {
  const first = allEvents(planFleet(options()));
  const again = allEvents(planFleet(options()));
  t.deepEqual(again, first);
  // Timestamps follow the start time, so the ids must too: one id, one content.
  const later = allEvents(planFleet(options()), START + 3_600_000);
  const firstById = new Map(first.map((e) => [e.id, JSON.stringify(e)]));
  t.false(
    later.some((e) => firstById.has(e.id)),
    "a run started at another time shares no id with the first",
  );
  const other = allEvents(planFleet(options({ seed: "other" })));
  const firstIds = new Set(first.map((e) => e.id));
  t.false(
    other.some((e) => firstIds.has(e.id)),
    "no id is shared with another seed",
  );
  t.is(firstIds.size, first.length, "ids are unique within a run");
  t.deepEqual(fleetSummary(planFleet(options())), fleetSummary(planFleet(options())));
});

test("every event passes catalog.parse, also after a JSON round trip", (t) => {
  const events = allEvents(planFleet(options({ faulty: 1, pumps: 10, seconds: 10 })));
  for (const event of events) {
    const parsed = catalog.parse(JSON.parse(JSON.stringify(event)));
    if (!parsed.ok) t.fail(`${event.type} ${event.id}: ${parsed.message}`);
  }
  t.is(events.filter((e) => e.type === "pump.registered").length, 10);
  t.is(events.filter((e) => e.type === "pump.metric.reported").length, 500);
});

test("registrations carry the seed simulator's attributes, a site and nominal readings", (t) => {
  const fleet = planFleet(options({ pumps: 12 }));
  const siteIds: string[] = SITES.map((s) => s.id);
  for (const pump of fleet.pumps) {
    const data = registrationEvent(fleet, pump, START).data;
    t.is(data.type, "ESP");
    t.is(data.os, "Raspbian");
    t.true(siteIds.includes(data.site));
    t.regex(data.ipAddress, /^10\.\d+\.\d+\.\d+$/);
    t.true(FIELDS.every((field) => data.nominal[field] > 0));
  }
  t.is(new Set(fleet.pumps.map((p) => p.assetId)).size, 12);
  t.is(new Set(fleet.pumps.map((p) => p.site)).size, SITES.length, "twelve pumps cover every site");
});

test("the faulty share is respected and five faulty pumps or more show every problem", (t) => {
  for (const [pumps, faulty, expected] of [
    [20, 0.2, 4],
    [20, 0, 0],
    [20, 1, 20],
    [7, 0.5, 4],
    [100, 0.25, 25],
    [1, 0.4, 0],
  ] as const) {
    const summary = fleetSummary(planFleet(options({ pumps, faulty })));
    t.is(summary.faulty.length, expected, `${pumps} pumps x ${faulty}`);
    t.is(summary.healthy, pumps - expected);
    t.is(
      Object.values(summary.byProblem).reduce((a, b) => a + b, 0),
      expected,
    );
  }
  const summary = fleetSummary(planFleet(options({ pumps: 10, faulty: 0.5 })));
  t.deepEqual(Object.values(summary.byProblem), [1, 1, 1, 1, 1]);
  const faults = fleetSummary(planFleet(options({ pumps: 40, faulty: 0.5 }))).faulty;
  t.true(faults.some((f) => f.clearsAt !== undefined) && faults.some((f) => f.clearsAt === undefined));
  for (const fault of faults) {
    t.true(fault.startsAt >= 0.15 * 30 && fault.startsAt <= 0.45 * 30, `${fault.assetId} starts at ${fault.startsAt}`);
    if (fault.clearsAt !== undefined) t.true(fault.clearsAt > fault.startsAt && fault.clearsAt <= 0.8 * 30);
  }
});

test("healthy pumps stay inside ±5% of nominal on every reading", (t) => {
  const fleet = planFleet(options({ pumps: 30, faulty: 0.3, rate: 100 }));
  const healthy = fleet.pumps.filter((p) => !p.fault);
  t.is(healthy.length, 21);
  for (const pump of healthy) {
    for (const { reading } of readingsOf(fleet, pump)) {
      if (!inBand(reading, pump.nominal)) t.fail(`${pump.assetId}: ${JSON.stringify(reading)} outside the band`);
      t.deepEqual(problemsShown(reading, pump.nominal), []);
    }
  }
});

test("each problem's readings are recognisably outside nominal, and only while the fault lasts", (t) => {
  const fleet = planFleet(options({ pumps: 40, faulty: 1, rate: 200, seconds: 30 }));
  const seen = new Set<Problem>();
  for (const pump of fleet.pumps) {
    const fault = pump.fault!;
    const end = fault.clearsAt ?? Number.POSITIVE_INFINITY;
    let developed = 0;
    let previous: Reading | undefined;
    for (const { offset, reading } of readingsOf(fleet, pump)) {
      const isDeveloped = offset >= fault.startsAt + fault.rampSeconds && offset < end;
      if (offset < fault.startsAt || offset >= end) {
        if (!inBand(reading, pump.nominal)) t.fail(`${pump.assetId} at ${offset}: outside the band while healthy`);
      } else if (isDeveloped) {
        const shown = problemsShown(reading, pump.nominal, previous);
        if (!shown.includes(fault.problem)) {
          t.fail(`${pump.assetId} ${fault.problem} at ${offset}: ${JSON.stringify(reading)} shows ${shown}`);
        }
        developed += 1;
      }
      previous = isDeveloped ? reading : undefined;
    }
    t.true(developed >= 10, `${pump.assetId} has ${developed} developed readings`);
    seen.add(fault.problem);
  }
  t.deepEqual([...seen].sort(), [...PROBLEMS].sort());
});

test("the signatures tell the problems apart: a developed reading shows its own problem only", (t) => {
  const fleet = planFleet(options({ pumps: 40, faulty: 1, rate: 200 }));
  for (const pump of fleet.pumps) {
    const fault = pump.fault!;
    const during = readingsOf(fleet, pump).filter(
      ({ offset }) =>
        offset >= fault.startsAt + fault.rampSeconds && offset < (fault.clearsAt ?? Number.POSITIVE_INFINITY),
    );
    const reading = during[1]!.reading;
    const shown = problemsShown(reading, pump.nominal);
    t.deepEqual(shown, [fault.problem], `${pump.assetId} ${fault.problem}: ${JSON.stringify(reading)}`);
  }
});

test("overheating climbs over its ramp rather than jumping", (t) => {
  const fleet = planFleet(options({ pumps: 40, faulty: 1, rate: 400, seconds: 30 }));
  const pump = fleet.pumps.find((p) => p.fault?.problem === "overheating")!;
  const fault = pump.fault!;
  const ramp = readingsOf(fleet, pump).filter(
    ({ offset }) => offset >= fault.startsAt && offset < fault.startsAt + fault.rampSeconds,
  );
  t.true(ramp.length >= 10);
  const excess = ramp.map(({ reading }) => reading.temperature - pump.nominal.temperature);
  t.true(excess[0]! < 10 && excess.at(-1)! > 25, `from ${excess[0]} to ${excess.at(-1)}`);
  const half = Math.floor(ramp.length / 2);
  t.true(excess[half]! > 8 && excess[half]! < 30, `mid-ramp ${excess[half]}`);
});

test("command-line flags: defaults, values and one-line errors", (t) => {
  t.deepEqual(parseSimulateArgs([]), DEFAULTS);
  t.is(DEFAULTS.topicAssets, TOPIC.assets);
  t.is(DEFAULTS.topicMetrics, TOPIC.metrics);
  t.deepEqual(
    parseSimulateArgs([
      "--pumps",
      "5",
      "--rate",
      "12.5",
      "--seconds",
      "3",
      "--faulty",
      "0.4",
      "--seed",
      "abc",
      "--topic-assets",
      "a",
      "--topic-metrics",
      "m",
      "--duplicate",
    ]),
    {
      pumps: 5,
      rate: 12.5,
      seconds: 3,
      faulty: 0.4,
      seed: "abc",
      topicAssets: "a",
      topicMetrics: "m",
      duplicate: true,
    },
  );
  t.is(parseSimulateArgs(["--help"]), undefined);
  for (const [args, message] of [
    [["--pumps", "0"], /--pumps must be an integer >= 1/],
    [["--pumps", "2.5"], /--pumps must be an integer/],
    [["--faulty", "1.5"], /--faulty must be a number from 0 to 1/],
    [["--rate", "fast"], /--rate must be a number > 0/],
    [["--seconds", ""], /--seconds must be a number > 0/],
    [["--seed", ""], /--seed must not be empty/],
    [["--pumpz", "3"], /pumpz/],
  ] as const) {
    t.throws(() => parseSimulateArgs([...args]), { instanceOf: UsageError, message }, args.join(" "));
  }
});

/** A producer that records what it is asked to send. */
function fakeProducer() {
  const sent: { topic: string; messages: Message[] }[] = [];
  return {
    sent,
    producer: {
      send: async (record: { topic: string; messages: Message[] }) => {
        sent.push(record);
        return [];
      },
    },
  };
}

const runOptions = (overrides: Partial<SimulateOptions> = {}): SimulateOptions => ({
  ...DEFAULTS,
  pumps: 5,
  rate: 40,
  seconds: 0.5,
  faulty: 0.4,
  seed: "run",
  topicAssets: "a",
  topicMetrics: "m",
  ...overrides,
});

test("simulate registers the fleet first, then streams every reading keyed by assetId, at the rate", async (t) => {
  const { sent, producer } = fakeProducer();
  const progress: Progress[] = [];
  const began = Date.now();
  const report = await simulate(runOptions({ startAt: START }), { producer, progress: (p) => progress.push(p) });
  const took = Date.now() - began;
  t.true(took >= 400 && took < 3_000, `took ${took} ms`);
  t.is(sent[0]?.topic, "a");
  t.true(sent.slice(1).every((batch) => batch.topic === "m"));
  const assets = sent.filter((b) => b.topic === "a").flatMap((b) => b.messages);
  const metrics = sent.filter((b) => b.topic === "m").flatMap((b) => b.messages);
  t.is(assets.length, 5);
  t.is(metrics.length, 20);
  const fleet = planFleet(runOptions());
  t.deepEqual(
    metrics.map((m) => JSON.parse(String(m.value))),
    Array.from({ length: 20 }, (_, k) => JSON.parse(JSON.stringify(readingEvent(fleet, k, START)))),
  );
  for (const message of [...assets, ...metrics]) {
    const event = JSON.parse(String(message.value));
    t.is(message.key, event.data.assetId);
  }
  t.like(report, { pumps: 5, registered: 5, readings: 20, totalReadings: 20, records: 25, interrupted: false });
  t.is(report.startedAt, new Date(START).toISOString());
  t.is(report.faulty.length, 2);
  t.is(progress.at(-1)?.phase, "done");
  t.true(formatReport(report).some((line) => line.includes("20 of 20")));
});

test("--duplicate produces every record twice, with the same key and id, one after the other", async (t) => {
  const { sent, producer } = fakeProducer();
  const report = await simulate(runOptions({ duplicate: true }), { producer });
  const messages = sent.flatMap((b) => b.messages);
  t.is(messages.length, 50);
  t.is(report.records, 50);
  t.is(report.readings, 20);
  for (let i = 0; i < messages.length; i += 2) {
    t.is(messages[i]!.key, messages[i + 1]!.key);
    t.is(messages[i]!.value, messages[i + 1]!.value);
  }
  t.is(new Set(messages.map((m) => JSON.parse(String(m.value)).id)).size, 25);
});

test("an aborted run stops early and says so", async (t) => {
  const { sent, producer } = fakeProducer();
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 300);
  const began = Date.now();
  const report = await simulate(runOptions({ seconds: 30, rate: 20 }), { producer, signal: stop.signal });
  t.true(Date.now() - began < 1_500);
  t.true(report.interrupted);
  t.true(report.readings > 0 && report.readings < 20, `${report.readings} readings`);
  t.is(sent.flatMap((b) => b.messages).length, report.records);
  t.true(
    report.faulty.every((f) => !f.reached),
    "faults start after 15% of 30 s",
  );
  t.is(formatReport(report)[0], "Simulation interrupted.");
});

test("the progress line is rewritten in place on a terminal and printed every few seconds otherwise", (t) => {
  const p: Progress = {
    phase: "streaming",
    pumps: 5,
    registered: 5,
    readings: 10,
    totalReadings: 20,
    records: 15,
    elapsedMs: 2000,
  };
  const tty: string[] = [];
  const onTerminal = progressPrinter({ isTTY: true, write: (s) => tty.push(s) });
  onTerminal.update(p);
  onTerminal.done({ ...p, phase: "done" });
  t.true(tty.every((s) => s.startsWith("\r")));
  t.true(tty.at(-1)!.endsWith("\n"));
  t.regex(tty[0]!, /readings 10\/20 \(50%\).*7\.5 records\/s/);
  const lines: string[] = [];
  let clock = 0;
  const piped = progressPrinter({ write: (s) => lines.push(s) }, 5_000, () => clock);
  for (clock = 0; clock <= 12_000; clock += 500) piped.update(p);
  t.is(lines.length, 2);
  t.true(lines.every((s) => !s.includes("\r") && s.endsWith("\n")));
});

const brokerAway = () =>
  Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), { name: "KafkaJSConnectionError" });

test("a send rides out Kafka being away for a while, says so once, and gives up past its budget", async (t) => {
  const lines: string[] = [];
  let calls = 0;
  const flaky = kafkaPatience(
    async () => {
      calls += 1;
      if (calls <= 3) throw brokerAway();
    },
    60_000,
    (line) => lines.push(line),
    async () => undefined,
  );
  await flaky();
  t.is(calls, 4);
  t.is(lines.length, 2);
  t.regex(lines[0] ?? "", /Kafka does not answer .*ECONNREFUSED.*retrying for up to 60 s/);
  t.regex(lines[1] ?? "", /Kafka answers again/);

  const never = kafkaPatience(
    async () => {
      throw brokerAway();
    },
    300,
    () => undefined,
  );
  await t.throwsAsync(never(), { message: /ECONNREFUSED/ });
  const wrong = kafkaPatience(
    async () => {
      throw new Error("topic does not exist");
    },
    60_000,
    () => undefined,
  );
  await t.throwsAsync(wrong(), { message: "topic does not exist" }, "a failure that will not pass is not retried");
});

test("--copies sends each record 1 to MAX times, the same way for the same seed", async (t) => {
  const sent: Message[][] = [];
  const producer = { send: async ({ messages }: { messages: Message[] }) => void sent.push(messages) } as never;
  const options = { ...DEFAULTS, pumps: 4, rate: 200, seconds: 0.2, seed: "copies", maxCopies: 5, startAt: START };
  const report = await simulate(options, { producer });
  const byId = new Map<string, number>();
  for (const message of sent.flat()) {
    const id = JSON.parse(String(message.value)).id as string;
    byId.set(id, (byId.get(id) ?? 0) + 1);
  }
  const counts = [...byId.values()];
  t.is(byId.size, 4 + 40, "every registration and reading");
  t.true(counts.every((n) => n >= 1 && n <= 5));
  t.true(new Set(counts).size > 2, "the number of copies varies");
  t.is(
    report.records,
    counts.reduce((a, b) => a + b, 0),
  );
  t.deepEqual(parseSimulateArgs(["--copies", "5"])?.maxCopies, 5);
  t.throws(() => parseSimulateArgs(["--copies", "0"]), { instanceOf: UsageError });
});
