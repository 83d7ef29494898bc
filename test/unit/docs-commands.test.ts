// Every command the README and docs/ tell people to run exists as written: each `npm run X` is a script of
// package.json, each `npx X` a command this project installs, and each flag and sub-command given to one of the
// project's own commands is one its code reads (found in the command's source and the files it imports).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import test from "ava";
import { repoRoot } from "../../scripts/stack/paths.ts";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

/** Code spans and fenced lines of the README and docs/, with where each was written. */
function writtenCommands(): { where: string; text: string }[] {
  const files = [
    "README.md",
    ...readdirSync(join(repoRoot, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  const found: { where: string; text: string }[] = [];
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), "utf8");
    let fenced = false;
    for (const [i, line] of text.split("\n").entries()) {
      if (line.startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      // A fenced line's comment is prose: what it names is not run.
      const spans = fenced ? [line.replace(/\s#.*$/, "")] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
      for (const span of spans) {
        // A command ends where the shell or the sentence does, or where the next command starts.
        for (const match of span.matchAll(
          /\b(npm (?:run [a-z:-]+|start|test)|npx [a-z@/.-]+)((?:(?!\bnp[mx] )[^&|;#?,:()])*)/g,
        )) {
          found.push({ where: `${file}:${i + 1}`, text: `${match[1]}${match[2] ?? ""}`.trim() });
        }
      }
    }
  }
  return found;
}

/** The source files a command runs: its entry and every project file it imports, transitively. */
function sourcesOf(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      visit(resolve(dirname(file), match[1] ?? ""));
    }
  };
  visit(join(repoRoot, entry));
  return [...seen];
}

/** The entry file behind `npm run X`, `npm start`, `npm test` or `npx X`; undefined for another project's command. */
function entryOf(command: string): string | undefined {
  const script = /^npm run ([a-z:-]+)$/.exec(command)?.[1] ?? /^npm (start|test)$/.exec(command)?.[1];
  const line = script ? pkg.scripts[script] : undefined;
  if (line) return /\b(?:tsx|node) ((?:scripts|local|bin)\/[\w/.-]+)/.exec(line)?.[1];
  const bin = /^npx ([a-z-]+)$/.exec(command)?.[1];
  return bin ? pkg.bin[bin] : undefined;
}

test("every npm script and npx command the docs name exists", (t) => {
  const missing = writtenCommands().flatMap(({ where, text }) => {
    const script = /^npm run ([a-z:-]+)/.exec(text)?.[1];
    if (script && !pkg.scripts[script]) return [`${where}: npm run ${script} is not a script of package.json`];
    const bin = /^npx ([a-z@/.-]+)/.exec(text)?.[1];
    if (bin && !pkg.bin[bin] && !existsSync(join(repoRoot, "node_modules/.bin", bin)))
      return [`${where}: npx ${bin} is not installed by this project`];
    return [];
  });
  t.deepEqual(missing, []);
});

test("every flag and sub-command the docs give to the project's own commands is one its code reads", (t) => {
  const problems: string[] = [];
  let checked = 0;
  for (const { where, text } of writtenCommands()) {
    const command = /^(npm run [a-z:-]+|npm start|npm test|npx [a-z-]+)/.exec(text)?.[1] ?? "";
    const entry = entryOf(command);
    if (!entry) continue;
    const source = sourcesOf(entry)
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    // npm passes what follows `--`; npx passes everything.
    const given = command.startsWith("npx") ? text.slice(command.length) : (text.split(" -- ")[1] ?? "");
    const words = given.split(/\s+/).filter((w) => w !== "" && !w.startsWith("<") && !w.startsWith("["));
    for (const [i, word] of words.entries()) {
      const flag = /^(--?[a-z][a-z-]*)/.exec(word)?.[1];
      const named = flag
        ? source.includes(`"${flag}"`) ||
          source.includes(`${flag.replace(/^-+/, "")}: {`) ||
          source.includes(`"${flag.replace(/^-+/, "")}"`)
        : i > 1 || !/^[a-z][a-z-]*$/.test(word) || source.includes(`"${word}"`) || source.includes(`${word}: {`);
      checked += 1;
      if (!named)
        problems.push(
          `${where}: ${command} ${flag ? `flag ${flag}` : `sub-command ${word}`} is read nowhere in ${entry} or what it imports`,
        );
    }
  }
  t.true(checked > 30, `${checked} flags and words checked`);
  t.deepEqual(problems, []);
});
