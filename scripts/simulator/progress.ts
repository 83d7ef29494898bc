// The progress line: rewritten in place on a terminal, one line every few seconds otherwise (logs, CI).

export interface Progress {
  phase: "registering" | "streaming" | "done" | "interrupted";
  pumps: number;
  registered: number;
  readings: number;
  totalReadings: number;
  records: number;
  elapsedMs: number;
}

export function formatProgress(p: Progress): string {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.records / seconds : 0;
  const share = p.totalReadings > 0 ? Math.floor((100 * p.readings) / p.totalReadings) : 0;
  return (
    `${p.phase.padEnd(11)} pumps ${p.registered}/${p.pumps}  readings ${p.readings}/${p.totalReadings} (${share}%)` +
    `  records ${p.records}  ${rate.toFixed(1)} records/s  ${seconds.toFixed(1)} s`
  );
}

export interface ProgressPrinter {
  update(progress: Progress): void;
  /** Ends the line in place (terminal) or prints the last state (otherwise). */
  done(progress: Progress): void;
}

interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function progressPrinter(out: Output, everyMs = 5_000, now: () => number = Date.now): ProgressPrinter {
  if (out.isTTY) {
    return {
      update: (progress) => out.write(`\r\x1b[2K${formatProgress(progress)}`),
      done: (progress) => out.write(`\r\x1b[2K${formatProgress(progress)}\n`),
    };
  }
  let last = now();
  return {
    update: (progress) => {
      if (now() - last < everyMs) return;
      last = now();
      out.write(`${formatProgress(progress)}\n`);
    },
    done: (progress) => out.write(`${formatProgress(progress)}\n`),
  };
}
