// What `npm start` says when serverless fails: the error serverless wrote to stdout, not its warnings on stderr.
import test from "ava";
import { serverlessError } from "../../scripts/saga/deploy.ts";

const STDERR = `Warning: You're relying on provider "openwhisk" defined by a plugin which doesn't provide a validation schema for its config.
Compiling Triggers & Feeds...
Deploying Packages...
Environment: linux, node 20.20.2, framework 3.40.0 (local), plugin 7.2.3, SDK 4.5.1
Docs:        docs.serverless.com
Support:     forum.serverless.com
Bugs:        github.com/serverless/serverless/issues
`;

test("the Error section of stdout, in one line, without the banners and the provider warning", (t) => {
  const stdout = `Deploying Triggers...\nBinding Feeds To Triggers...\nError:\nFailed to deploy feed (messaging/kafkaFeed) due to error: POST http://127.0.0.1:3233/api/v1/namespaces/guest/actions/messaging/kafkaFeed Returned HTTP 502 (Bad Gateway) --> "Could not connect to Kafka: The consumer group must have no running instances, current state: Stable"\n`;
  t.is(
    serverlessError(stdout, STDERR),
    'Error: Failed to deploy feed (messaging/kafkaFeed) due to error: POST http://127.0.0.1:3233/api/v1/namespaces/guest/actions/messaging/kafkaFeed Returned HTTP 502 (Bad Gateway) --> "Could not connect to Kafka: The consumer group must have no running instances, current state: Stable"',
  );
});

test("without an Error line: the last lines, never only the warning", (t) => {
  const said = serverlessError("", `${STDERR}Killed\n`);
  t.regex(said, /Killed$/);
  t.notRegex(said, /relying on provider/);
});
