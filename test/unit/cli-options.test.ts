import test from "ava";
import { numberOption, UsageError } from "../../scripts/cli.ts";
import { listPage } from "../../scripts/wsk/args.ts";

test("a numeric option: absent is undefined; a value inside its rule is taken", (t) => {
  t.is(numberOption("rate", undefined, { above: 0 }), undefined);
  t.is(numberOption("rate", "2.5", { above: 0 }), 2.5);
  t.is(numberOption("copies", "100", { whole: true, min: 1, max: 100 }), 100);
  t.is(numberOption("faulty", "0", { min: 0, max: 1 }), 0);
});

test("a numeric option outside its rule is a usage error naming the flag, what it accepts and what it got", (t) => {
  const refused = (raw: string, rule: Parameters<typeof numberOption>[2]) =>
    t.throws(() => numberOption("n", raw, rule), { instanceOf: UsageError })?.message;
  t.is(refused("0", { above: 0 }), '--n must be a number > 0, got "0"');
  t.is(refused("", { above: 0 }), '--n must be a number > 0, got ""');
  t.is(refused("Infinity", { min: 0 }), '--n must be a number >= 0, got "Infinity"');
  t.is(refused("2.5", { whole: true, min: 1 }), '--n must be an integer >= 1, got "2.5"');
  t.is(refused("101", { whole: true, min: 1, max: 100 }), '--n must be an integer from 1 to 100, got "101"');
  t.is(refused("x", { whole: true, above: 0 }), '--n must be an integer > 0, got "x"');
});

test("wsk's list page: 30 from 0 by default; a limit or skip wsk would refuse is a usage error, not NaN", (t) => {
  t.deepEqual(listPage({}), { limit: 30, skip: 0 });
  t.deepEqual(listPage({ limit: "2", skip: "5" }), { limit: 2, skip: 5 });
  t.throws(() => listPage({ skip: "many" }), { message: '--skip must be an integer >= 0, got "many"' });
  t.throws(() => listPage({ limit: "0" }), { message: '--limit must be an integer > 0, got "0"' });
});
