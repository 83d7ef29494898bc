// Every refusal of apache/openwhisk-package-kafka's feed actions, with upstream's message (action/lib/common.js,
// messageHubFeedWeb.js, kafkaFeedWeb.js). The same refusals through the real clients: test/platform/feeds.test.ts.
import test from "ava";
import {
  adminToken,
  adminTopicsUrl,
  checkAdminAnswer,
  type FeedKind,
  notAuthorized,
  validateCreate,
  validateUpdate,
} from "../../lib/feed/kafka-feed-rules.ts";

const messageHub = {
  topic: "t",
  triggerName: "/_/trig",
  kafka_brokers_sasl: ["b:9093"],
  user: "token",
  password: "key",
  kafka_admin_url: "https://admin",
};
const kafka = { topic: "t", triggerName: "/_/trig", brokers: "b1:9092,b2:9092" };

function refusal(kind: FeedKind, params: Record<string, unknown>) {
  try {
    validateCreate(kind, params);
    return undefined;
  } catch (err) {
    return { status: (err as { status: number }).status, message: (err as Error).message };
  }
}

test("CREATE refuses what upstream refuses, in its order, with its messages and statuses", (t) => {
  const cases: [FeedKind, Record<string, unknown>, number, string][] = [
    ["kafkaFeed", { ...kafka, topic: undefined }, 400, "You must supply a 'topic' parameter."],
    ["kafkaFeed", { ...kafka, topic: "" }, 400, "You must supply a 'topic' parameter."],
    ["messageHubFeed", { ...messageHub, topic: 5 }, 400, "You must supply a 'topic' parameter."],
    ["kafkaFeed", { ...kafka, triggerName: undefined }, 400, "You must supply a 'triggerName' parameter."],
    [
      "kafkaFeed",
      { ...kafka, isJSONData: "TRUE ", isBinaryValue: true },
      400,
      "isJSONData and isBinaryValue cannot both be enabled.",
    ],
    ["kafkaFeed", { ...kafka, brokers: undefined }, 400, "You must supply a 'brokers' parameter."],
    ["kafkaFeed", { ...kafka, brokers: "" }, 400, "You must supply a 'brokers' parameter."],
    [
      "kafkaFeed",
      { ...kafka, brokers: [] },
      400,
      "You must supply a 'brokers' parameter as an array of Message Hub brokers.",
    ],
    [
      "kafkaFeed",
      { ...kafka, brokers: { b: 1 } },
      400,
      "You must supply a 'brokers' parameter as an array of Message Hub brokers.",
    ],
    [
      "messageHubFeed",
      { ...messageHub, kafka_brokers_sasl: undefined },
      400,
      "You must supply a 'kafka_brokers_sasl' parameter.",
    ],
    [
      "messageHubFeed",
      { ...messageHub, kafka_brokers_sasl: 9093 },
      400,
      "You must supply a 'kafka_brokers_sasl' parameter as an array of Message Hub brokers.",
    ],
    [
      "messageHubFeed",
      { ...messageHub, user: "" },
      400,
      "You must supply a 'user' parameter to authenticate with Message Hub.",
    ],
    [
      "messageHubFeed",
      { ...messageHub, password: undefined },
      400,
      "You must supply a 'password' parameter to authenticate with Message Hub.",
    ],
    [
      "messageHubFeed",
      { ...messageHub, kafka_admin_url: undefined },
      400,
      "You must supply a 'kafka_admin_url' parameter.",
    ],
  ];
  for (const [kind, params, status, message] of cases) {
    t.deepEqual(refusal(kind, params), { status, message }, `${kind} ${JSON.stringify(params)}`);
  }
  t.like(validateCreate("kafkaFeed", kafka), { brokers: ["b1:9092", "b2:9092"], isJSONData: false });
  t.like(validateCreate("kafkaFeed", { ...kafka, isJSONData: "yes" }), { isJSONData: false }, "only true or 'true'");
  t.like(validateCreate("messageHubFeed", messageHub), { user: "token", kafkaAdminUrl: "https://admin" });
  t.is(refusal("kafkaFeed", { ...kafka, user: "" }), undefined, "kafkaFeed ignores Message Hub's parameters");
});

test("UPDATE changes only the three flags; a disabled trigger, no flag, or both JSON and binary are refused", (t) => {
  const stored = { isJSONData: false, isBinaryValue: false, isBinaryKey: false, active: true };
  t.deepEqual(validateUpdate("/ns/t", stored, { isBinaryKey: "true", topic: "ignored" }), {
    isJSONData: false,
    isBinaryValue: false,
    isBinaryKey: true,
  });
  t.throws(() => validateUpdate("/ns/t", { ...stored, active: false }, { isBinaryKey: true }), {
    message: "/ns/t cannot be updated because it is disabled",
  });
  t.throws(() => validateUpdate("/ns/t", stored, { topic: "x" }), {
    message: "At least one of isJsonData, isBinaryKey, or isBinaryValue must be supplied.",
  });
  t.throws(() => validateUpdate("/ns/t", { ...stored, isJSONData: true }, { isBinaryValue: true }), {
    message: "isJSONData and isBinaryValue cannot both be enabled.",
  });
});

test("the admin check: the token, the URL, 403, a topic not listed, a body that is not a list; other failures pass", (t) => {
  t.is(adminToken("token", "k3y"), "k3y");
  t.is(adminToken("Token", "k3y"), "k3y");
  t.is(adminToken("alice", "s3cret"), "alices3cret");
  t.is(adminTopicsUrl("https://admin/"), "https://admin//admin/topics", "concatenated as upstream does");
  t.throws(() => checkAdminAnswer({ status: 403, body: "" }, "t"), {
    message: "Could not authenticate with Message Hub. Please check your credentials.",
  });
  t.throws(() => checkAdminAnswer({ status: 200, body: JSON.stringify([{ name: "other" }]) }, "t"), {
    message: "Topic does not exist. You must create the topic first: t",
  });
  t.throws(() => checkAdminAnswer({ status: 200, body: "{}" }, "t"), {
    message: "TypeError: body.map is not a function",
  });
  t.notThrows(() => checkAdminAnswer({ status: 200, body: JSON.stringify([{ name: "t" }]) }, "t"));
  t.notThrows(() => checkAdminAnswer({ status: 401, body: "" }, "t"), "only an explicit 403 refuses");
  t.notThrows(() => checkAdminAnswer(undefined, "t"), "no answer at all does not refuse");
  t.like(notAuthorized("CREATE"), { status: 401, message: "You are not authorized for this trigger." });
  t.like(notAuthorized("READ"), { status: 500, message: "[object Object]" });
});
