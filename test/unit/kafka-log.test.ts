// KafkaJS's log entries become readable lines, one per kind every 30 s, with how many were held back.
import test from "ava";
import { kafkaLogLine } from "../../lib/kafka/client.ts";

const entry = (message: string, extra: Record<string, unknown> = {}) => ({
  namespace: "Connection",
  label: "ERROR",
  log: { message, broker: "127.0.0.1:9092", clientId: "bench", correlationId: 2, size: 20, ...extra },
});

test("an entry is one readable line with the details worth reading, not JSON", (t) => {
  const line = kafkaLogLine(
    entry("Response InitProducerId(key: 22, version: 1)", { error: "The coordinator is loading" }),
    0,
    new Map(),
  );
  t.is(
    line,
    "kafka error Connection: Response InitProducerId(key: 22, version: 1) [broker 127.0.0.1:9092, error The coordinator is loading]",
  );
});

test("the same kind of entry (numbers aside) is held back for 30 s, then printed with the count", (t) => {
  const seen = new Map();
  t.truthy(kafkaLogLine(entry("Connection timeout after 5000 ms"), 0, seen));
  t.is(kafkaLogLine(entry("Connection timeout after 5001 ms"), 10_000, seen), undefined);
  t.is(kafkaLogLine(entry("Connection timeout after 5002 ms"), 20_000, seen), undefined);
  t.truthy(kafkaLogLine(entry("Another kind"), 20_000, seen), "another kind is not held back");
  t.regex(
    kafkaLogLine(entry("Connection timeout after 5003 ms"), 31_000, seen) ?? "",
    /\(2 more like it in the last 30 s\)$/,
  );
});

test("the idempotent producer's retry caution is not printed", (t) => {
  t.is(
    kafkaLogLine(entry("Limiting retries for the idempotent producer. Please consider..."), 0, new Map()),
    undefined,
  );
});
