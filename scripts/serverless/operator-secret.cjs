// serverless.yml's `${file(./scripts/serverless/operator-secret.cjs)}`: the secret the operator's state-changing web
// actions require in X-Require-Whisk-Auth. There is no default: without it those actions would answer anyone who
// has their URL, so a deploy without it stops here with the reason. CommonJS, because serverless require()s it.
const MIN_LENGTH = 16;
const ACTIONS = "parts-restock, request-maintenance and cancel-workorder";

/** The secret from the environment, or an Error saying what is wrong with it. */
function operatorSecret(env) {
  const secret = env.OPERATOR_WEB_SECRET;
  if (secret === undefined || secret === "") {
    return new Error(
      `OPERATOR_WEB_SECRET is not set: the operator's web actions (${ACTIONS}) change state and would answer anyone with their URL. Set it to a secret of at least ${MIN_LENGTH} characters; callers send it in the X-Require-Whisk-Auth header.`,
    );
  }
  if (secret.length < MIN_LENGTH || /\s/.test(secret)) {
    return new Error(`OPERATOR_WEB_SECRET must be at least ${MIN_LENGTH} characters, without spaces`);
  }
  return secret;
}

module.exports = async () => {
  const secret = operatorSecret(process.env);
  if (secret instanceof Error) {
    secret.stack = secret.message; // serverless prints the stack: one line is enough
    throw secret;
  }
  return secret;
};
module.exports.operatorSecret = operatorSecret;
