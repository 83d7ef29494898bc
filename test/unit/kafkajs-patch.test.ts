import { createRequire } from "node:module";
import test from "ava";

// patches/kafkajs+2.2.4.patch: an idle connection must not re-arm a timer forever (tulios/kafkajs#1556).
const require = createRequire(import.meta.url);
const RequestQueue = require("kafkajs/src/network/requestQueue/index.js");

const queueOf = () =>
  new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    clientId: "patch-test",
    broker: "127.0.0.1:9092",
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });

test("an idle kafkajs request queue schedules no check", (t) => {
  const queue = queueOf();
  queue.scheduleCheckPendingRequests();
  t.is(queue.throttleCheckTimeoutId, null, "the kafkajs patch is not applied: run npm ci (postinstall)");
});

test("a request queue with a pending request still schedules its check", (t) => {
  const queue = queueOf();
  queue.pending.push({});
  queue.scheduleCheckPendingRequests();
  t.not(queue.throttleCheckTimeoutId, null);
  clearTimeout(queue.throttleCheckTimeoutId);
});
