// The operator compositions as conductor actions that `serverless deploy` can deploy like any other action:
// composed and synthesized by Composer 0.8.1's own library (what its `compose` and `deploy` CLIs do), written to
// dist/<name>.js with `main` exported, as a zipped Node action must.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { CONDUCTORS } from "../functions/actions.ts";
import { repoRoot } from "./stack/paths.ts";

const require = createRequire(import.meta.url);

interface SynthesizedAction {
  action: { exec: { code: string } };
}

/** Composer's conductor code for one composition, captured from its deploy path instead of sent to a platform. */
async function conductorCode(source: string): Promise<string> {
  const composer = require("@ibm-functions/composer");
  const conductor = require("@ibm-functions/composer/conductor");
  const compiled = composer.parse(require(join(repoRoot, source))).compile();
  const client = conductor({ apihost: "127.0.0.1", api_key: "unused:unused" });
  const created: SynthesizedAction[] = [];
  client.compositions.actions = {
    create: async (action: SynthesizedAction) => created.push(action),
    delete: async () => undefined,
  };
  await client.compositions.deploy({ ...compiled, name: "/_/saga/conductor" }, false);
  const synthesized = created.at(-1);
  if (!synthesized) throw new Error(`composer synthesized no conductor for ${source}`);
  return `${synthesized.action.exec.code}\nmodule.exports.main = main;\n`;
}

export async function buildConductors(outdir: string): Promise<string[]> {
  const names: string[] = [];
  for (const [name, source] of Object.entries(CONDUCTORS)) {
    writeFileSync(join(outdir, `${name}.js`), await conductorCode(source));
    names.push(name);
  }
  return names;
}
