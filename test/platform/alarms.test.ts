// The interval and once alarm feeds through the openwhisk client, with the feed's minute shortened
// (alarmMinuteMs, LOCAL_OW_ALARM_MINUTE_MS) so that a test takes seconds.
import test from "ava";
import { activationsOf, eventually, feedError, feedTrigger, type Started, startOw } from "./helpers.ts";

type AlarmRead = {
  response: {
    result: {
      config: Record<string, unknown>;
      status: { active: boolean; reason?: { kind: string; message: string } };
    };
  };
};

const ECHO = "function main(p) { return { payload: p.payload, n: p.n }; }";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function read(s: Started, feedName: string, trigger: string): Promise<AlarmRead["response"]["result"]> {
  return ((await s.feeds.get({ feedName, trigger })) as AlarmRead).response.result;
}

test("interval alarm: fires every (scaled) minute with trigger_payload until stopDate, then disables itself", async (t) => {
  const minute = 300;
  const s = await startOw(t, { feeds: { alarmMinuteMs: minute } });
  const feed = "/whisk.system/alarms/interval";
  await s.client.actions.create({ name: "echo", action: ECHO });
  const stopDate = Date.now() + 6 * minute;
  await feedTrigger(s, "every-minute", feed, { minutes: 1, trigger_payload: "hello", stopDate });
  await s.client.rules.create({ name: "r", trigger: "every-minute", action: "echo" });

  const config = (await read(s, feed, "every-minute")).config;
  t.is(config.minutes, 1);
  t.is(config.stopDate, stopDate);
  const fired = await eventually(async () => {
    const list = await activationsOf(s, "echo");
    return list.length >= 2 ? list : undefined;
  }, 5_000);
  t.deepEqual(fired[0]!.response.result, { payload: "hello" }, "a string trigger_payload arrives as {payload}");

  const status = await eventually(async () => {
    const { status } = await read(s, feed, "every-minute");
    return status.active ? undefined : status;
  }, 10_000);
  t.like(status.reason, {
    kind: "AUTO",
    message: "Automatically disabled after firing last scheduled interval trigger",
  });
  const settled = (await activationsOf(s, "echo")).length;
  t.true(settled >= 2);
  await sleep(3 * minute);
  t.is((await activationsOf(s, "echo")).length, settled, "nothing fires after stopDate");

  for (const params of [{}, { minutes: 0 }]) {
    t.is(
      await feedError(s.feeds.create({ feedName: feed, trigger: "every-minute", params })),
      "interval trigger feed is missing the minutes parameter",
    );
  }
  t.is(
    await feedError(s.feeds.create({ feedName: feed, trigger: "every-minute", params: { minutes: 1.5 } })),
    "the minutes parameter must be an integer",
  );
  t.is(
    await feedError(s.feeds.create({ feedName: feed, trigger: "every-minute", params: { minutes: -2 } })),
    "the minutes parameter must be an integer greater than zero",
  );
  t.is(
    await feedError(
      s.feeds.create({
        feedName: feed,
        trigger: "every-minute",
        params: { minutes: 1, startDate: Date.now() + 60_000, stopDate: Date.now() + 1_000 },
      }),
    ),
    "stopDate parameter must be greater than the startDate",
  );
  await s.feeds.delete({ feedName: feed, trigger: "every-minute" });
  t.is(
    await feedError(s.feeds.get({ feedName: feed, trigger: "every-minute" })),
    "could not find trigger /guest/every-minute",
  );
});

test("once alarm: fires once at its date with trigger_payload, then reads as disabled; past dates are refused", async (t) => {
  const s = await startOw(t);
  const feed = "/whisk.system/alarms/once";
  await s.client.actions.create({ name: "echo", action: ECHO });
  await s.client.triggers.create({ name: "plain" });
  const date = new Date(Date.now() + 1_000).toISOString();
  await feedTrigger(s, "at-date", feed, { date, trigger_payload: { n: 7 } });
  await s.client.rules.create({ name: "r", trigger: "at-date", action: "echo" });
  t.is((await read(s, feed, "at-date")).config.date, date);

  const fired = await eventually(async () => {
    const list = await activationsOf(s, "echo");
    return list.length > 0 ? list : undefined;
  }, 10_000);
  t.deepEqual(fired[0]!.response.result, { n: 7 });
  const { status } = await read(s, feed, "at-date");
  t.false(status.active);
  t.like(status.reason, { kind: "AUTO", message: "Automatically disabled after firing once" });
  await sleep(1_500);
  t.is((await activationsOf(s, "echo")).length, 1, "a once alarm fires exactly once");

  const past = new Date(Date.now() - 1_000).toISOString();
  t.is(
    await feedError(s.feeds.create({ feedName: feed, trigger: "plain", params: { date: past } })),
    `date parameter '${past}' must be in the future`,
  );
  t.is(
    await feedError(s.feeds.create({ feedName: feed, trigger: "plain", params: {} })),
    "alarms once trigger feed is missing the date parameter",
  );
});
