import test from "ava";
import { DEFAULT_REFRESH_MS, refreshInterval } from "../../functions/dashboard/browser/refresh.ts";

test("?refresh takes a whole number of milliseconds of at least 1 s; 0, words and negatives are the default", (t) => {
  t.is(refreshInterval("1000"), 1_000);
  t.is(refreshInterval("5000"), 5_000);
  for (const raw of [null, "", "0", "10", "-5000", "soon", "NaN", "Infinity"]) {
    t.is(refreshInterval(raw), DEFAULT_REFRESH_MS, String(raw));
  }
});
