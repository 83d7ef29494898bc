// The web answers the operator compositions end with, as composer function combinators. Composer copies each
// function's source into the conductor action, so a function here may use nothing outside its own body.

/** The catch of a composition: a component's failure `{ error: { statusCode, error, field?, headers? } }` becomes
 * its HTTP answer; anything else (a platform error, a crashed component) is a 500 that says what happened. */
exports.failed = (result) => {
  const failure = result.error;
  const json = { "content-type": "application/json" };
  if (failure !== null && typeof failure === "object" && Number.isInteger(failure.statusCode)) {
    const { statusCode, headers, ...body } = failure;
    return { statusCode, headers: { ...headers, ...json }, body };
  }
  const detail = typeof failure === "string" ? failure : JSON.stringify(failure);
  return { statusCode: 500, headers: json, body: { error: `the composition failed: ${detail}` } };
};

/** request-maintenance accepted: the work order the saga opens for it. */
exports.requestAccepted = (done) => ({
  statusCode: 202,
  headers: { "content-type": "application/json" },
  body: {
    status: "accepted",
    requestId: done.requestId,
    incidentId: done.incidentId,
    workOrderId: done.workOrderId,
    eventId: done.eventId,
    replayed: done.replayed === true,
  },
});

/** cancel-workorder accepted: the saga cancels the order unless it is scheduled or cancelled first. */
exports.cancelAccepted = (done) => ({
  statusCode: 202,
  headers: { "content-type": "application/json" },
  body: {
    status: "cancel-requested",
    workOrderId: done.workOrderId,
    eventId: done.eventId,
    replayed: done.replayed === true,
  },
});
