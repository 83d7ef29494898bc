import test from "ava";
import { ConfigError } from "../../lib/config/settings.ts";
import { kafkaSettingsFromEnv, kafkaSettingsFromParams, parseBrokerList } from "../../lib/kafka/config.ts";
import { actionClientId } from "../../lib/step/io.ts";
import { storeSettingsFromEnv, storeSettingsFromParams } from "../../lib/store/config.ts";

test("KAFKA_BROKERS unset means no external Kafka", (t) => {
  t.is(kafkaSettingsFromEnv({}), undefined);
});

test("a broker list is parsed from a comma-separated string or an array", (t) => {
  t.deepEqual(parseBrokerList("X", " a:9092, b:9093 "), ["a:9092", "b:9093"]);
  t.deepEqual(parseBrokerList("X", ["[::1]:9092"]), ["[::1]:9092"]);
});

test("a broker without a valid port is refused with one line naming the setting", (t) => {
  const err = t.throws(() => kafkaSettingsFromEnv({ KAFKA_BROKERS: "a:9092,b" }), { instanceOf: ConfigError });
  t.is(err?.message, 'KAFKA_BROKERS: "b" is not host:port');
  t.throws(() => parseBrokerList("X", "a:70000"), { message: 'X: "a:70000" is not host:port' });
});

test("Event Streams parameters give SASL PLAIN over TLS", (t) => {
  const settings = kafkaSettingsFromParams(
    { kafka_brokers_sasl: ["b1:9093", "b2:9093"], user: "token", password: "secret-key" },
    "step",
  );
  t.deepEqual(settings, {
    brokers: ["b1:9093", "b2:9093"],
    ssl: true,
    sasl: { mechanism: "plain", username: "token", password: "secret-key" },
    clientId: "step",
  });
});

test("an action's Kafka client id is its fully qualified name, dotted; ow-saga outside OpenWhisk", (t) => {
  t.is(actionClientId({ __OW_ACTION_NAME: "/guest/saga/assets" }), "guest.saga.assets");
  t.is(
    actionClientId({ __OW_ACTION_NAME: "/team@example.org_dev/saga/parts restock" }),
    "team_example.org_dev.saga.parts_restock",
  );
  t.is(actionClientId({}), "ow-saga");
});

test("a SASL user without a password names the missing setting", (t) => {
  t.throws(() => kafkaSettingsFromEnv({ KAFKA_BROKERS: "a:1", KAFKA_SASL_USER: "token" }), {
    message: "KAFKA_SASL_PASSWORD: missing; SASL needs both KAFKA_SASL_USER and KAFKA_SASL_PASSWORD",
  });
});

test("an unknown SASL mechanism or a non-boolean TLS flag is refused", (t) => {
  t.throws(() => kafkaSettingsFromEnv({ KAFKA_BROKERS: "a:1", KAFKA_SASL_MECHANISM: "gssapi" }), {
    message: /^KAFKA_SASL_MECHANISM: "gssapi" is not one of/,
  });
  t.throws(() => kafkaSettingsFromEnv({ KAFKA_BROKERS: "a:1", KAFKA_TLS: "maybe" }), {
    message: 'KAFKA_TLS: expected true or false, got "maybe"',
  });
});

test("CLOUDANT_URL alone means no authentication", (t) => {
  t.deepEqual(storeSettingsFromEnv({ CLOUDANT_URL: "http://127.0.0.1:5984/" }), {
    url: "http://127.0.0.1:5984",
    auth: { kind: "none" },
  });
});

test("credentials in CLOUDANT_URL become basic auth and leave the URL", (t) => {
  const settings = storeSettingsFromEnv({ CLOUDANT_URL: "https://admin:p%40ss@host.example" });
  t.deepEqual(settings, { url: "https://host.example", auth: { kind: "basic", username: "admin", password: "p@ss" } });
});

test("an API key gives IAM auth; an API key with a user name is ambiguous and refused", (t) => {
  t.deepEqual(storeSettingsFromParams({ cloudant_url: "https://h", cloudant_apikey: "k" }), {
    url: "https://h",
    auth: { kind: "iam", apiKey: "k", iamUrl: undefined },
  });
  t.throws(() => storeSettingsFromEnv({ CLOUDANT_URL: "https://h", CLOUDANT_APIKEY: "k", CLOUDANT_USERNAME: "u" }), {
    message: /^CLOUDANT_APIKEY: set either/,
  });
});

test("a malformed store URL is refused with one line naming the setting", (t) => {
  t.throws(() => storeSettingsFromEnv({ CLOUDANT_URL: "not a url" }), {
    message: "CLOUDANT_URL: is not a URL; expected http(s)://host[:port]",
  });
  t.throws(() => storeSettingsFromEnv({ CLOUDANT_URL: "ftp://h" }), {
    message: "CLOUDANT_URL: protocol ftp: is not http: or https:",
  });
});
