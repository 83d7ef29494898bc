// What serverless.yml exposes, checked against the code (beside the wiring, scripts/wiring.ts): every setting the
// code reads is bound to the package, so that OpenWhisk refuses a web request that sets it; no action is given the
// namespace's API key; every web action that changes state requires the operator's secret, which has no default.
import { OPERATOR_COMMANDS } from "../functions/actions.ts";
import { BOUND_SETTING_NAMES } from "../functions/service-settings.ts";

type Annotations = Record<string, unknown>;

/** The parts of serverless.yml that decide what a stranger can do. */
export interface ServerlessExposure {
  custom?: { operatorAuth?: unknown };
  functions?: Record<string, { annotations?: Annotations } | null>;
  resources?: { packages?: Record<string, { parameters?: Record<string, unknown> } | null> };
}

const PACKAGE = "saga";
// Serverless variables, as serverless.yml writes them.
// biome-ignore lint/suspicious/noTemplateCurlyInString: serverless's syntax, not a template
export const OPERATOR_AUTH = "${self:custom.operatorAuth}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: serverless's syntax, not a template
export const OPERATOR_SECRET_SOURCE = "${file(./scripts/serverless/operator-secret.cjs)}";

/** Every way serverless.yml exposes more than it should, one line each; none when it does not. */
export function exposureProblems(config: ServerlessExposure, settings = BOUND_SETTING_NAMES): string[] {
  const problems: string[] = [];
  const bound = config.resources?.packages?.[PACKAGE]?.parameters ?? {};
  for (const name of settings) {
    if (!Object.hasOwn(bound, name) || bound[name] === null) {
      problems.push(`setting ${name} is read by the code but not bound to package ${PACKAGE}: a caller could set it`);
    }
  }
  for (const [action, fn] of Object.entries(config.functions ?? {})) {
    const annotations = fn?.annotations ?? {};
    if (annotations["provide-api-key"] !== false) {
      problems.push(`function ${action} is given the namespace's API key: annotate provide-api-key: false`);
    }
    if (annotations["web-export"] === true && annotations["raw-http"] === true) {
      problems.push(`function ${action} is a raw web action: OpenWhisk checks no parameter of its callers`);
    }
    if (OPERATOR_COMMANDS.includes(action)) {
      if (annotations["require-whisk-auth"] !== OPERATOR_AUTH) {
        problems.push(`function ${action} changes state: it must require ${OPERATOR_AUTH}`);
      }
    }
  }
  if (config.custom?.operatorAuth !== OPERATOR_SECRET_SOURCE) {
    problems.push(
      `custom.operatorAuth must be ${OPERATOR_SECRET_SOURCE}: a default would open the operator's commands`,
    );
  }
  return problems;
}
