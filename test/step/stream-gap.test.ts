// An event-sourced step on a store whose reads lag (IBM Cloudant answers `_all_docs` from one copy of each shard):
// a history with a hole is never decided on, so an input of the missing commit is never applied twice.
import test from "ava";
import { commitDocId } from "../../lib/step/documents.ts";
import { readStreams, type StreamCommitDoc } from "../../lib/step/index.ts";
import { createCloudant } from "../../lib/store/client.ts";
import { startStoreProxy } from "../../scripts/chaos/store-proxy.ts";
import { storeSettings, testCloudant } from "../support/services.ts";
import { feedParams, stepWorld, tallyAdded, tallyStreamStep } from "../support/step-fixture.ts";

type Rows = { results: { rows: { id: string }[] }[] };

/** The streams' read answer without the commit `hidden`; the same bytes when it holds no such commit. */
function withoutCommit(body: Buffer, hidden: string): Buffer {
  const answer = JSON.parse(body.toString("utf8")) as Rows;
  const results = answer.results.map((result) => ({ ...result, rows: result.rows.filter((row) => row.id !== hidden) }));
  const removed = results.some((result, i) => result.rows.length !== answer.results[i]?.rows.length);
  return removed ? Buffer.from(JSON.stringify({ ...answer, results })) : body;
}

const streamsRead = (url: string | undefined) => Boolean(url?.includes("/_all_docs/queries"));

type Answer = { counts: Record<string, number> };

test("a stream whose first commit the query does not return yet is read again, not decided on", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStreamStep(world.names);
  const first = tallyAdded("s", 1);
  const second = tallyAdded("s", 2);
  await step.run(feedParams(world.names.in, [first]), world.io());
  await step.run(feedParams(world.names.in, [second]), world.io());

  // The copy that answers has not caught up with commit 1 for the next two reads.
  let hidden = 0;
  const proxy = await startStoreProxy(storeSettings().url, {
    rewrite: (request, status, body) => {
      if (!streamsRead(request.url) || status !== 200 || hidden >= 2) return body;
      const rewritten = withoutCommit(body, commitDocId("s", 1));
      if (rewritten !== body) hidden += 1;
      return rewritten;
    },
  });
  t.teardown(() => proxy.close());
  const lagging = createCloudant({ url: proxy.url, auth: storeSettings().auth });
  const third = tallyAdded("s", 4);
  const answer = (await step.run(
    feedParams(world.names.in, [first, third]),
    world.io({ cloudant: lagging }),
  )) as Answer;
  t.is(hidden, 2, "the hole was seen");
  t.like(answer.counts, { applied: 1, duplicate: 1 });

  const commits = (await readStreams(testCloudant(), world.names.database, ["s"])).get("s") ?? [];
  const inputs = commits.flatMap((commit: StreamCommitDoc) => commit.entries.map((entry) => entry.input.id));
  t.deepEqual(inputs, [first.id, second.id, third.id], "each input in exactly one commit");
  t.deepEqual(
    commits.map((c) => Boolean(c.head)),
    [false, false, true],
    "only the latest commit is the stream's head",
  );
});

test("a hole that does not close is an error the step retries later, never a decision", async (t) => {
  const world = await stepWorld(t);
  const step = tallyStreamStep(world.names);
  const first = tallyAdded("h", 1);
  await step.run(feedParams(world.names.in, [first]), world.io());
  await step.run(feedParams(world.names.in, [tallyAdded("h", 2)]), world.io());
  const proxy = await startStoreProxy(storeSettings().url, {
    rewrite: (request, status, body) =>
      streamsRead(request.url) && status === 200 ? withoutCommit(body, commitDocId("h", 1)) : body,
  });
  t.teardown(() => proxy.close());
  const answer = (await step.run(
    feedParams(world.names.in, [first]),
    world.io({
      cloudant: createCloudant({ url: proxy.url, auth: storeSettings().auth }),
      deadline: Date.now() + 8_000,
    }),
  )) as Answer;
  t.like(answer.counts, { applied: 0, "sent-to-retry": 1 });
});
