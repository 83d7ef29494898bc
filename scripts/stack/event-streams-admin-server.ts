// Entry point of the local Event Streams admin REST API: GET /admin/topics, the one call messageHubFeed makes before
// it creates a trigger. The token (X-Auth-Token) is the API key, as Event Streams takes it from user "token"; a wrong
// one is a 403. Usage: event-streams-admin-server.ts <port> <plaintext brokers>. Listens on 127.0.0.1 only.
import { createServer } from "node:http";
import { createKafka } from "../../lib/kafka/client.ts";
import { eventStreamsSecrets } from "./event-streams.ts";

const [portArg, brokers] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || !brokers) {
  console.error("usage: event-streams-admin-server.ts <port> <host:port of the broker's plaintext listener>");
  process.exit(2);
}

const { apiKey } = eventStreamsSecrets();
const kafka = createKafka({ brokers: brokers.split(","), ssl: false, clientId: "event-streams-admin" });

async function topics(): Promise<{ name: string; partitions: number; replicationFactor: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter((name) => !name.startsWith("__"));
    const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
    return described.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]?.replicas.length ?? 1,
    }));
  } finally {
    await admin.disconnect();
  }
}

const json = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const server = createServer((req, res) => {
  if (req.method !== "GET" || req.url?.split("?")[0] !== "/admin/topics")
    return json(res, 404, { error_code: 404, message: "Not found" });
  if (req.headers["x-auth-token"] !== apiKey) return json(res, 403, { error_code: 403, message: "Forbidden" });
  topics().then(
    (list) => json(res, 200, list),
    (err: unknown) => json(res, 503, { error_code: 503, message: `Kafka: ${(err as Error).message}` }),
  );
});
server.listen(port, "127.0.0.1", () => console.log(`event streams admin API on 127.0.0.1:${port}`));
server.on("error", (err) => {
  console.error(`event streams admin API: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
