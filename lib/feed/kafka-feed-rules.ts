// What apache/openwhisk-package-kafka's feed actions refuse, in the order they check it, with their messages
// (action/lib/common.js, action/messageHubFeedWeb.js, action/kafkaFeedWeb.js). The feed action hands the caller only
// the body of its web action's answer, as `{error: <body>}`; the web action's status code is kept here because it
// says what kind of refusal each one is. Pure, so every refusal has a unit test.
import { SagaError } from "../errors.ts";
import { propertyOf } from "../narrow.ts";
import { flag } from "../openwhisk/fire.ts";

export type FeedKind = "messageHubFeed" | "kafkaFeed";

/** A refusal: what upstream's web action answers (status) and the body the caller sees as `error`. */
export class FeedRefusal extends SagaError {
  override name = "FeedRefusal";
  constructor(
    readonly status: 400 | 401 | 500,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new FeedRefusal(400, message);

export interface FeedFlags {
  isJSONData: boolean;
  isBinaryValue: boolean;
  isBinaryKey: boolean;
}

export interface CreateRequest extends FeedFlags {
  topic: string;
  brokers: string[];
  /** messageHubFeed only. */
  user?: string;
  password?: string;
  kafkaAdminUrl?: string;
}

const present = (value: unknown) =>
  value !== undefined && value !== null && value !== false && value !== "" && value !== 0;

/** Brokers as upstream takes them: a non-empty array as it is, a string split on commas; anything else refused. */
function brokersOf(value: unknown, name: string): string[] {
  if (!present(value)) throw invalid(`You must supply a '${name}' parameter.`);
  if (Array.isArray(value) && value.length > 0) return value.map(String);
  if (typeof value === "string") return value.split(",");
  throw invalid(`You must supply a '${name}' parameter as an array of Message Hub brokers.`);
}

export function flagsOf(params: Record<string, unknown>): FeedFlags {
  return {
    isJSONData: flag(params, "isJSONData"),
    isBinaryValue: flag(params, "isBinaryValue"),
    isBinaryKey: flag(params, "isBinaryKey"),
  };
}

/** CREATE's parameters, checked as upstream checks them; the first failure wins. */
export function validateCreate(kind: FeedKind, params: Record<string, unknown>): CreateRequest {
  const topic = params.topic;
  if (typeof topic !== "string" || topic.length === 0) throw invalid("You must supply a 'topic' parameter.");
  if (!present(params.triggerName)) throw invalid("You must supply a 'triggerName' parameter.");
  const flags = flagsOf(params);
  if (flags.isJSONData && flags.isBinaryValue) throw invalid("isJSONData and isBinaryValue cannot both be enabled.");
  if (kind === "kafkaFeed") return { topic, ...flags, brokers: brokersOf(params.brokers, "brokers") };
  const brokers = brokersOf(params.kafka_brokers_sasl, "kafka_brokers_sasl");
  if (!present(params.user)) throw invalid("You must supply a 'user' parameter to authenticate with Message Hub.");
  if (!present(params.password))
    throw invalid("You must supply a 'password' parameter to authenticate with Message Hub.");
  if (!present(params.kafka_admin_url)) throw invalid("You must supply a 'kafka_admin_url' parameter.");
  return {
    topic,
    ...flags,
    brokers,
    user: String(params.user),
    password: String(params.password),
    kafkaAdminUrl: String(params.kafka_admin_url),
  };
}

/** UPDATE: only the three flags change (anything else given is ignored, as upstream ignores it). */
export function validateUpdate(
  triggerName: string,
  stored: FeedFlags & { active: boolean },
  params: Record<string, unknown>,
): FeedFlags {
  if (!stored.active) throw invalid(`${triggerName} cannot be updated because it is disabled`);
  const given = (["isJSONData", "isBinaryValue", "isBinaryKey"] as const).filter((key) => params[key] !== undefined);
  // Upstream's message spells isJsonData this way.
  if (given.length === 0) throw invalid("At least one of isJsonData, isBinaryKey, or isBinaryValue must be supplied.");
  const next: FeedFlags = {
    isJSONData: stored.isJSONData,
    isBinaryValue: stored.isBinaryValue,
    isBinaryKey: stored.isBinaryKey,
  };
  for (const key of given) next[key] = flag(params, key);
  if (next.isJSONData && next.isBinaryValue) throw invalid("isJSONData and isBinaryValue cannot both be enabled.");
  return next;
}

export const NOT_AUTHORIZED = "You are not authorized for this trigger.";

/**
 * The trigger could not be read with the caller's key. CREATE says so (401); READ, UPDATE and DELETE answer 500 with
 * the body "[object Object]", because upstream stringifies its own rejection object there: the same refusal, and
 * the same unhelpful text a real deployment shows.
 */
export const notAuthorized = (event: "CREATE" | "READ" | "UPDATE" | "DELETE") =>
  event === "CREATE" ? new FeedRefusal(401, NOT_AUTHORIZED) : new FeedRefusal(500, "[object Object]");

/** No trigger of that name in the provider's database: CouchDB's reason, as the nano client words it. */
export const missingTrigger = () => new FeedRefusal(500, "Error: missing");

/** The Event Streams admin API token: the API key alone when the user is "token", else user and password run together. */
export const adminToken = (user: string, password: string) =>
  user.toLowerCase() === "token" ? password : `${user}${password}`;

/** The admin API's URL for the topic list: plain concatenation, as upstream builds it. */
export const adminTopicsUrl = (kafkaAdminUrl: string) => `${kafkaAdminUrl}/admin/topics`;

/**
 * What upstream makes of the admin API's answer to GET /admin/topics. 403 refuses the credentials; a 2xx body must
 * list the topic; any other answer, or none, lets the trigger be created (upstream's choice: refuse only on an
 * explicit 403).
 */
export function checkAdminAnswer(answer: { status: number; body: string } | undefined, topic: string): void {
  if (!answer) return;
  if (answer.status === 403)
    throw new FeedRefusal(500, "Could not authenticate with Message Hub. Please check your credentials.");
  if (answer.status < 200 || answer.status >= 300) return;
  let topics: unknown;
  try {
    topics = JSON.parse(answer.body);
  } catch {
    topics = answer.body;
  }
  if (!Array.isArray(topics)) throw new FeedRefusal(500, "TypeError: body.map is not a function");
  const names = topics.map((entry) => propertyOf(entry, "name"));
  if (!names.includes(topic))
    throw new FeedRefusal(500, `Topic does not exist. You must create the topic first: ${topic}`);
}
