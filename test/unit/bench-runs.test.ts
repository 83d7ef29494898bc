import test from "ava";
import { mergeRuns } from "../../scripts/bench/runs.ts";

test("a benchmark's runs merge into medians with their spread, written as the runs wrote them", (t) => {
  const merged = mergeRuns([
    "| step | 1,751 | 48.2 | p50 |\nratio 0.41x\ndone in 3 s",
    "| step | 1,600 | 50.1 | p50 |\nratio 0.38x\ndone in 5 s",
    "| step | 2,001 | 47.0 | p50 |\nratio 0.44x\ndone in 4 s",
  ]);
  t.deepEqual(merged, [
    "| step | 1,751 (1,600-2,001) | 48.2 (47.0-50.1) | p50 |",
    "ratio 0.41 (0.38-0.44)x",
    "done in 4 (3-5) s",
  ]);
});

test("a line only some runs printed is left out; a line printed twice is matched occurrence by occurrence", (t) => {
  const merged = mergeRuns(["a 1\nwarning: slow\na 10", "a 3\na 30", "a 2\na 20\nwarning: slow"]);
  t.deepEqual(merged, ["a 2 (1-3)", "a 20 (10-30)"]);
});

test("numbers equal in every run are printed once, as written", (t) => {
  t.deepEqual(mergeRuns(["2 cores, 4-hop pipe, 1, 2", "2 cores, 4-hop pipe, 1, 2"]), ["2 cores, 4-hop pipe, 1, 2"]);
});
