import test from "ava";
import { gapsIn, mergeRuns, piecesOf, rangesOf, walk } from "../../lib/step/coverage.ts";

test("a batch's offsets become runs per topic-partition; direct invocations cover nothing", (t) => {
  const origin = (partition: number, offset: number) => ({ topic: "t", partition, offset: String(offset), key: null });
  t.deepEqual(rangesOf([origin(0, 5), origin(0, 6), origin(0, 8), origin(1, 2), { direct: true }]), {
    "t:0": [
      [5, 6],
      [8, 8],
    ],
    "t:1": [[2, 2]],
  });
  t.deepEqual(
    mergeRuns([
      [10, 12],
      [0, 3],
      [4, 6],
      [11, 20],
    ]),
    [
      [0, 6],
      [10, 20],
    ],
  );
});

test("the walk goes as far as coverage is unbroken and names the first hole below the committed offset", (t) => {
  const runs: [number, number][] = [
    [0, 9],
    [20, 29],
  ];
  t.deepEqual(walk(0, 10, runs), { next: 10 });
  t.deepEqual(walk(0, 30, runs), { next: 10, gap: { from: 10, to: 19 } });
  t.deepEqual(walk(0, 15, runs), { next: 10, gap: { from: 10, to: 14 } }, "only what the feed committed");
  t.deepEqual(walk(20, 35, runs), { next: 30, gap: { from: 30, to: 34 } });
  t.deepEqual(walk(5, 5, []), { next: 5 }, "nothing committed past next");
  t.deepEqual(walk(0, 3, []), { next: 0, gap: { from: 0, to: 2 } });
});

test("every gap up to the committed offset; a growing gap keeps the first-seen time of what was seen before", (t) => {
  const runs: [number, number][] = [
    [0, 4],
    [10, 14],
    [20, 24],
  ];
  t.deepEqual(gapsIn(0, 30, runs), [
    { from: 5, to: 9 },
    { from: 15, to: 19 },
    { from: 25, to: 29 },
  ]);
  t.deepEqual(gapsIn(0, 25, runs).length, 2);
  t.deepEqual(piecesOf({ from: 25, to: 39 }, [{ from: 25, to: 29, since: 100 }], 200), [
    { from: 25, to: 29, since: 100 },
    { from: 30, to: 39, since: 200 },
  ]);
  t.deepEqual(piecesOf({ from: 5, to: 9 }, [], 300), [{ from: 5, to: 9, since: 300 }]);
  t.deepEqual(
    piecesOf({ from: 12, to: 13 }, [{ from: 10, to: 19, since: 50 }], 300),
    [{ from: 12, to: 13, since: 50 }],
    "a gap partly filled since keeps its age",
  );
});
