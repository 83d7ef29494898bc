import test from "ava";
import type { EachMessagePayload } from "kafkajs";
import { createConsumer, createIdempotentProducer, ensureTopics } from "../../lib/kafka/client.ts";
import { testKafka, uniqueName } from "../support/services.ts";

test("a message produced by the idempotent producer is consumed through a consumer group, in key order", async (t) => {
  const kafka = testKafka();
  const topic = uniqueName("roundtrip");
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, [{ topic, partitions: 3 }]);

  const consumer = createConsumer(kafka, uniqueName("group"));
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: { key: string; value: string; partition: number }[] = [];
  const allReceived = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message, partition }: EachMessagePayload) => {
        received.push({ key: String(message.key), value: String(message.value), partition });
        if (received.length === 6) resolve();
      },
    });
  });

  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const sent = ["a", "b", "c"].flatMap((key) => [1, 2].map((n) => ({ key, value: `${key}${n}` })));
  await producer.send({ topic, messages: sent });

  await allReceived;
  t.deepEqual(received.map((m) => m.value).sort(), sent.map((m) => m.value).sort());
  for (const key of ["a", "b", "c"]) {
    const ofKey = received.filter((m) => m.key === key);
    t.deepEqual(
      ofKey.map((m) => m.value),
      [`${key}1`, `${key}2`],
      `messages of key ${key} keep their order`,
    );
    t.is(new Set(ofKey.map((m) => m.partition)).size, 1, `key ${key} maps to one partition`);
  }
});

test("ensureTopics creates topics with the partition count asked and refuses a topic with fewer", async (t) => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const topic = uniqueName("partitions");
  await ensureTopics(admin, [{ topic, partitions: 4 }]);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  t.is(metadata.topics[0]?.partitions.length, 4);
  await ensureTopics(admin, [{ topic, partitions: 4 }]);
  await t.throwsAsync(ensureTopics(admin, [{ topic, partitions: 8 }]), { message: /has 4 partitions, 8 wanted/ });
});

test("the broker does not create topics on demand", async (t) => {
  const kafka = testKafka();
  const producer = kafka.producer({ retry: { retries: 1 } });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await t.throwsAsync(producer.send({ topic: uniqueName("undeclared"), messages: [{ value: "x" }], timeout: 3000 }), {
    message: /does not host this topic-partition|UNKNOWN_TOPIC|not available/i,
  });
});
