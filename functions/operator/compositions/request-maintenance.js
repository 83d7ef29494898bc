// Composition `saga/request-maintenance` (monitoring service), for composer's `compose` CLI:
//   validate the operator's request -> record it once (monitoring's database) -> publish maintenance.requested
//   -> 202 with the work order id; any failure -> its HTTP answer (400, 405, 409, 503, 500).
const composer = require("@ibm-functions/composer");
const { failed, requestAccepted } = require("./answers.js");

module.exports = composer.try(
  composer.sequence(
    composer.action("saga/monitoring-request-validate"),
    composer.action("saga/monitoring-request-record"),
    composer.action("saga/monitoring-request-emit"),
    composer.function(requestAccepted),
  ),
  composer.function(failed),
);
