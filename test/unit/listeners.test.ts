import { createServer, type Server } from "node:net";
import test from "ava";
import { listenerOf } from "../../scripts/stack/listeners.ts";

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );

test("a port in use names the process listening on it, read from /proc", async (t) => {
  const server = createServer();
  const port = await listen(server);
  t.teardown(() => server.close());
  const named = listenerOf(port);
  t.true(named.startsWith(`pid ${process.pid} (`), named);
  t.true(named.includes("node"), named);
});

test("a port nobody listens on names nobody", async (t) => {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  t.is(listenerOf(port), "");
});
