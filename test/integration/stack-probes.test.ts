// The stack's probe of a store (an external CLOUDANT_URL, or its own at start-up) rides out 429s and says when the
// credentials are refused, instead of calling either "no answer".
import test from "ava";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { storeAnswers } from "../../scripts/stack/couch.ts";
import { storeSettings } from "../support/services.ts";

test("a store answering 429 for a while answers; one refusing the credentials is named", async (t) => {
  let busy = 3;
  const proxy = await startStoreProxy(storeSettings().url, {
    intercept: () => (busy-- > 0 ? { status: 429, body: { error: "too_many_requests" } } : undefined),
  });
  t.teardown(() => proxy.close());
  t.true(await storeAnswers({ url: proxy.url, auth: storeSettings().auth }, 15_000));
  t.is(proxy.stats.intercepted, 3);

  const refusing = await startStoreProxy(storeSettings().url, {
    intercept: () => ({ status: 401, body: { error: "unauthorized" } }),
  });
  t.teardown(() => refusing.close());
  await t.throwsAsync(storeAnswers({ url: refusing.url, auth: { kind: "none" } }, 15_000), {
    message: /refused the credentials \(401\)/,
  });
  const nobody = await startStoreProxy(storeSettings().url);
  nobody.setDown(true);
  t.teardown(() => nobody.close());
  const started = Date.now();
  t.false(await storeAnswers({ url: nobody.url, auth: { kind: "none" } }, 2_000));
  t.true(Date.now() - started >= 1_500, "it tried for the time it was given");
});
