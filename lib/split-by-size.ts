// Cutting a list into runs that each fit a size limit (a document, a fire's payload); an item larger than the limit
// is a run alone, so nothing is ever dropped.

const jsonBytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item) ?? "");

/** Runs of at most `limit` bytes by `sizeOf` (serialized JSON by default), in order. */
export function splitBySize<T>(items: T[], limit: number, sizeOf: (item: T) => number = jsonBytes): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && bytes + size > limit) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
