// serverless.yml and the one declaration of the wiring (functions/topology.ts, functions/actions.ts) agree, and
// each way they can drift apart is caught.
import test from "ava";
import { consumedTopics, STEPS, triggerOf } from "../../functions/topology.ts";
import { DECLARED, loadServerlessWiring, type ServerlessWiring, wiringProblems } from "../../scripts/wiring.ts";

const fresh = (): ServerlessWiring => loadServerlessWiring();

test("serverless.yml agrees with the declaration", (t) => {
  t.deepEqual(wiringProblems(fresh()), []);
});

test("the topics a step consumes are those its handled events are published on", (t) => {
  t.deepEqual(consumedTopics("parts.stock"), ["workorders.events", "parts.deliveries"]);
  t.deepEqual(consumedTopics("crews.roster"), ["parts.events", "workorders.events"]);
});

test("a step whose topic lacks a trigger", (t) => {
  const config = fresh();
  delete config.resources?.triggers?.[triggerOf("parts.deliveries")];
  t.deepEqual(
    wiringProblems(config).filter((p) => p.includes("saga-parts-deliveries")),
    [
      "step parts.stock consumes parts.deliveries: serverless.yml has no trigger saga-parts-deliveries",
      "function parts-stock is bound to saga-parts-deliveries, which is not declared",
    ],
  );
});

test("a step that handles a new event type on a topic it had no rule from", (t) => {
  const declared = {
    ...DECLARED,
    steps: DECLARED.steps.map((step) =>
      step.name === "assets.registry"
        ? { ...step, sources: [...step.sources, { topic: "parts.events", trigger: triggerOf("parts.events") }] }
        : step,
    ),
  };
  t.deepEqual(wiringProblems(fresh(), declared), [
    "step assets.registry consumes parts.events: function assets-registry has no rule from trigger saga-parts-events",
  ]);
});

test("a trigger without a step", (t) => {
  const config = fresh();
  const triggers = config.resources?.triggers ?? {};
  triggers["saga-parts-audit"] = {
    feed: "/whisk.system/messaging/kafkaFeed",
    feed_parameters: { topic: "parts.audit" },
  };
  t.deepEqual(wiringProblems(config), ["trigger saga-parts-audit (parts.audit) feeds no step"]);
});

test("a step bound to a trigger of a topic it does not consume", (t) => {
  const config = fresh();
  config.functions?.["crews-roster"]?.events?.push({ trigger: triggerOf("pump.metrics") });
  t.deepEqual(wiringProblems(config), [
    "function crews-roster is bound to trigger saga-pump-metrics (pump.metrics), which step crews.roster does not consume",
  ]);
});

test("a trigger reading another topic than its step expects", (t) => {
  const config = fresh();
  const trigger = config.resources?.triggers?.[triggerOf("crews.events")];
  if (!trigger?.feed_parameters) return t.fail("serverless.yml has no saga-crews-events with feed parameters");
  trigger.feed_parameters.topic = "crews.event";
  const problems = wiringProblems(config);
  t.true(problems.includes("trigger saga-crews-events reads crews.event, not crews.events"), problems.join("\n"));
});

test("a step without its function, a function built by nothing, an action never deployed", (t) => {
  const config = fresh();
  const functions = config.functions ?? {};
  delete functions["monitoring-detect"];
  delete functions["parts-view"];
  functions["parts-audit"] = { events: [] };
  t.deepEqual(wiringProblems(config), [
    "step monitoring.detect: serverless.yml has no function monitoring-detect",
    "function parts-audit is built by nothing (functions/actions.ts)",
    "action monitoring-detect is built but serverless.yml never deploys it",
    "action parts-view is built but serverless.yml never deploys it",
  ]);
});

test("every step handles at least one event type and consumes at least one topic", (t) => {
  for (const [name, step] of Object.entries(STEPS)) {
    t.true(step.handles.length > 0, name);
    t.true(consumedTopics(name as keyof typeof STEPS).length > 0, name);
  }
});
