// The lossless feed's sealed secrets: they open only with the registrations' key, for the trigger and the API host
// they were sealed for.
import { randomBytes } from "node:crypto";
import test from "ava";
import { openKey, registrationsKey, sealKey } from "../../triggers/lossless/sealed-key.ts";

const key = randomBytes(32);
const binding = { trigger: "/guest/records", apiHost: "https://ow.example" };
const authKey = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

test("sealed, the key and the Kafka password show nowhere; opened, they are as given", (t) => {
  const secrets = { authKey, kafkaPassword: "event-streams-api-key-0123456789" };
  const sealed = sealKey(secrets, binding, key);
  for (const part of [...authKey.split(":"), secrets.kafkaPassword]) t.false(JSON.stringify(sealed).includes(part));
  t.deepEqual(openKey(sealed, binding, key), secrets);
});

test("it does not open for another trigger, another API host, another key, or when edited", (t) => {
  const sealed = sealKey({ authKey }, binding, key);
  const broken = { message: /do not open/ };
  t.throws(() => openKey(sealed, { ...binding, trigger: "/guest/other" }, key), broken);
  t.throws(() => openKey(sealed, { ...binding, apiHost: "http://evil.invalid" }, key), broken);
  t.throws(() => openKey(sealed, binding, randomBytes(32)), broken);
  const data = Buffer.from(sealed.data, "base64");
  data[0] = (data[0] ?? 0) ^ 1;
  t.throws(() => openKey({ ...sealed, data: data.toString("base64") }, binding, key), broken);
});

test("the registrations' key must be 32 bytes in base64, and the error names the setting", (t) => {
  t.is(registrationsKey(key.toString("base64"), "LOSSLESS_FEED_KEY").length, 32);
  t.throws(() => registrationsKey(undefined, "LOSSLESS_FEED_KEY"), { message: /^LOSSLESS_FEED_KEY: missing/ });
  t.throws(() => registrationsKey("c2hvcnQ=", "LOSSLESS_FEED_KEY"), { message: /expected 32 bytes in base64, got 5/ });
});
