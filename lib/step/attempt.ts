// Calling a pure handler a bounded number of times: a throw may not repeat (it can depend on time or memory), but
// one that keeps repeating makes the message a dead letter.
export type Attempted<T> = { ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number };

export function attemptUpTo<T>(times: number, call: () => T): Attempted<T> {
  let error: unknown;
  for (let attempts = 1; attempts <= times; attempts += 1) {
    try {
      return { ok: true, value: call(), attempts };
    } catch (err) {
      error = err;
    }
  }
  return { ok: false, error, attempts: times };
}
