#!/usr/bin/env node
// npx wsk …: the project's wsk command (scripts/wsk), run through tsx so that it needs no build.
import { register } from "tsx/esm/api";

register();
const { wsk, errorLine } = await import("../scripts/wsk/main.ts");
try {
  process.exitCode = await wsk(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  );
} catch (err) {
  process.stderr.write(`${errorLine(err)}\n`);
  process.exitCode = 1;
}
