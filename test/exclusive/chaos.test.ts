// The chaos suite's short run, as CI runs it: the saga on the local OpenWhisk with a burst that fills 900 KB
// batches, containers killed at random, one broker restart, one store outage, every record produced 1 to 5 times,
// and 429s, conflicts and lost answers from the store. Nothing may be lost or doubled, and every fault must have
// happened (a run in which the faults missed proves nothing). Then the burst with kills again, on the lossless feed.
import test, { type ExecutionContext } from "ava";
import { printChaos } from "../../scripts/chaos/print.ts";
import { BURST_KILLS, type ChaosResult, runChaos, SOAK } from "../../scripts/chaos/run.ts";
import { kafkaSettings, storeEnv } from "../support/services.ts";

/** The report in the test's log; nothing lost or doubled, every invariant, and the kills really happened. */
function nothingLostOrDoubled(t: ExecutionContext, result: ChaosResult) {
  printChaos(result, (line) => t.log(line));
  t.is(result.ledger.lost, 0);
  t.is(result.ledger.doubled, 0);
  t.deepEqual(
    result.report.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.detail}`),
    [],
  );
  t.true(result.faults.killed >= 10, `containers killed: ${result.faults.killed}`);
}

test("a short chaos run loses nothing and doubles nothing, and every invariant holds", async (t) => {
  t.timeout(900_000);
  const env = { KAFKA_BROKERS: kafkaSettings().brokers.join(","), ...storeEnv() };
  // Progress goes to the console as it happens (a CI log that is silent for minutes says nothing about a hang).
  const result = await runChaos(
    { ...SOAK, seconds: 75, pumps: 40, rate: 20, bursts: 1, seed: "ci", quietTimeoutMs: 600_000 },
    env,
    (line) => console.log(`# chaos: ${line}`),
  );
  nothingLostOrDoubled(t, result);
  t.true(result.faults.brokerAwayMs >= 15_000, `broker away ${result.faults.brokerAwayMs} ms`);
  t.true(
    result.faults.store.tooManyRequests > 0 && result.faults.store.lostAnswers > 0,
    JSON.stringify(result.faults.store),
  );
  t.true(result.largestBatch >= 1_000, `the burst filled full-size batches: largest ${result.largestBatch} records`);
  t.true(result.produced.records > result.produced.readings, "records were produced more than once");
});

test("the burst with a container killed every 0.7 s, on the lossless feed with no landing: nothing lost or doubled", async (t) => {
  t.timeout(900_000);
  // The triggers on the lossless feed: the steps land nothing, and a killed activation's batch is fired again.
  const env = {
    KAFKA_BROKERS: kafkaSettings().brokers.join(","),
    ...storeEnv(),
    KAFKA_FEED: "lossless",
  };
  const result = await runChaos(
    { ...BURST_KILLS, seed: "ci-lossless", lossless: true, quietTimeoutMs: 600_000 },
    env,
    (line) => console.log(`# chaos, lossless: ${line}`),
  );
  nothingLostOrDoubled(t, result);
  t.true(result.produced.readings >= BURST_KILLS.burstReadings, `readings produced: ${result.produced.readings}`);
  // The lossless feed fires what one fetch brought once its 50 ms window closes: it does not wait to fill 900 KB, so
  // its largest batch varies from run to run (962 to 1,560 records seen in CI). Hundreds show the burst arrived as
  // a burst, which is what the kills must meet.
  t.true(
    result.largestBatch >= 500,
    `the burst reached the steps in batches of hundreds: largest ${result.largestBatch}`,
  );
});
