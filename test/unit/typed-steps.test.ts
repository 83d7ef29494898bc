// The compiler checks handlers against the event catalog: a field renamed in functions/events.ts, a handler
// reading a field its event lacks, or an emit with a wrong field each fail to compile. Runs TypeScript on the real
// sources, with one file's text changed in memory.
import { join, relative } from "node:path";
import test from "ava";
import ts from "typescript";
import { repoRoot } from "../../scripts/stack/paths.ts";

const STEP_MODULES = [
  "functions/assets/registry-step.ts",
  "functions/monitoring/detect-step.ts",
  "functions/workorders/saga-step.ts",
  "functions/parts/stock-step.ts",
  "functions/crews/roster-step.ts",
].map((file) => join(repoRoot, file));

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(repoRoot, "tsconfig.json");
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, repoRoot).options;
}

/** Type errors of the step modules, with `edits` applied to the named files' text (file -> [from, to]). */
function typeErrors(edits: Record<string, [string, string]> = {}, extraRoots: Record<string, string> = {}): string[] {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const extra = new Map(Object.entries(extraRoots).map(([file, text]) => [join(repoRoot, file), text]));
  host.readFile = (fileName) => {
    if (extra.has(fileName)) return extra.get(fileName);
    const text = readFile(fileName);
    const edit = Object.entries(edits).find(([file]) => join(repoRoot, file) === fileName)?.[1];
    if (text === undefined || !edit) return text;
    if (!text.includes(edit[0])) throw new Error(`${fileName} no longer contains ${JSON.stringify(edit[0])}`);
    return text.replace(edit[0], edit[1]);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => extra.has(fileName) || fileExists(fileName);
  const program = ts.createProgram([...STEP_MODULES, ...extra.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${relative(repoRoot, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : "";
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
  });
}

test("the step modules compile as they are (the control for the tests below)", (t) => {
  t.timeout(120_000);
  t.deepEqual(typeErrors(), []);
});

test("a field renamed in the catalog fails to compile where a handler reads it", (t) => {
  t.timeout(120_000);
  // parts.restocked's quantity becomes amount: the stock handler still reads quantity.
  const errors = typeErrors({
    "functions/events.ts": [
      "    quantity: z.number().check(z.int(), z.gte(1)),",
      "    amount: z.number().check(z.int(), z.gte(1)),",
    ],
  });
  t.true(
    errors.some((e) => e.startsWith("functions/parts/stock.ts") && e.includes("quantity")),
    errors.join("\n") || "no type error",
  );
});

test("a field renamed in the catalog fails to compile where a handler emits it", (t) => {
  t.timeout(120_000);
  // crew.released's day becomes date: the roster still emits day.
  const errors = typeErrors({
    "functions/events.ts": [
      '"crew.released": z.object({ workOrderId: id, crewId: id, day: z.iso.date() }),',
      '"crew.released": z.object({ workOrderId: id, crewId: id, date: z.iso.date() }),',
    ],
  });
  t.true(
    errors.some((e) => e.startsWith("functions/crews/roster.ts")),
    errors.join("\n") || "no type error",
  );
});

test("a handler reading a field its events lack, or emitting an unknown type, fails to compile", (t) => {
  t.timeout(120_000);
  const errors = typeErrors(
    {},
    {
      "functions/typed-steps-probe.ts": [
        'import type { SagaEmit } from "./events.ts";',
        'import type { StepEvent } from "./steps.ts";',
        'export const reads = (event: StepEvent<"parts.stock">) => event.data.crewId;',
        'export const emits: SagaEmit = { type: "part.lost", data: {} };',
        'export const wrongData: SagaEmit = { type: "part.released", data: { workOrderId: "w", part: "p" } };',
      ].join("\n"),
    },
  );
  const probe = errors.filter((e) => e.startsWith("functions/typed-steps-probe.ts"));
  const lines = new Set(probe.map((e) => e.split(":")[1]));
  t.deepEqual([...lines].sort(), ["3", "4", "5"], probe.join("\n"));
  t.true(probe.some((e) => e.includes("'crewId' does not exist")));
  t.true(probe.some((e) => e.includes('"part.lost"')));
  t.true(probe.some((e) => e.includes("'part' does not exist")));
});
