// Composition `saga/cancel-workorder` (workorders service), for composer's `compose` CLI:
//   validate -> the work order exists and is not terminal (workorders database) -> record the cancel once
//   -> publish workorder.cancel.requested -> 202; any failure -> its HTTP answer (400, 404, 405, 409, 503, 500).
const composer = require("@ibm-functions/composer");
const { cancelAccepted, failed } = require("./answers.js");

module.exports = composer.try(
  composer.sequence(
    composer.action("saga/workorders-cancel-validate"),
    composer.action("saga/workorders-cancel-check"),
    composer.action("saga/workorders-cancel-record"),
    composer.action("saga/workorders-cancel-emit"),
    composer.function(cancelAccepted),
  ),
  composer.function(failed),
);
