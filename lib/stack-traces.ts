// Stack traces of a bundled action that point at functions/ and lib/, not at column 40,000 of a minified line.
// Node maps a file's frames only if source maps were on before it compiled the file (--enable-source-maps, which
// OpenWhisk's runtime does not pass): `process.setSourceMapsEnabled(true)` run from inside the bundle comes too late
// for the bundle itself. So the build runs this first in every bundle (scripts/build.ts): it formats stack traces as
// V8 does, with the bundle's own frames mapped through its inline source map, which it reads and parses only when a
// trace first shows one of them. Loading the action costs nothing more.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const MAP_COMMENT = "\n//# sourceMappingURL=data:application/json;base64,";

/** The map of `file` from its inline comment; null when it has none or it cannot be read. */
function inlineSourceMap(file: string): SourceMap | null {
  try {
    const text = readFileSync(file, "utf8");
    const at = text.lastIndexOf(MAP_COMMENT);
    if (at < 0) return null;
    return new SourceMap(JSON.parse(Buffer.from(text.slice(at + MAP_COMMENT.length), "base64").toString("utf8")));
  } catch {
    return null;
  }
}

/** A source as the build named it, from the repository's root: "functions/parts/stock.ts", "node_modules/kafkajs/…". */
const sourceName = (source: string) => source.replace(/^(?:\.\.\/)+/, "").replace(/^.*?\/?(node_modules\/)/, "$1");

/** Formats every stack trace with the frames of `file` (the bundle, its __filename) mapped to their sources. */
export function mapStackTraces(file: string): void {
  let map: SourceMap | null | undefined;
  const frame = (site: NodeJS.CallSite): string => {
    const text = String(site);
    if (site.getFileName() !== file) return text;
    map ??= inlineSourceMap(file);
    const line = site.getLineNumber() ?? 0;
    const column = site.getColumnNumber() ?? 0;
    const entry = map?.findEntry(line - 1, column - 1);
    if (!entry || !("originalSource" in entry)) return text;
    const mapped = `${sourceName(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    return text.replace(`${file}:${line}:${column}`, mapped);
  };
  Error.prepareStackTrace = (error: unknown, sites: NodeJS.CallSite[]) => {
    let head: string;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = "Error";
    }
    const frames = sites.map((site) => {
      try {
        return frame(site);
      } catch {
        return String(site);
      }
    });
    return [head, ...frames.map((text) => `    at ${text}`)].join("\n");
  };
}
