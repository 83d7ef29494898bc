// OpenWhisk's namespace throttles: invocations and trigger fires per calendar minute (the count includes the
// rejected request, as the controller's RateThrottler does) and activations in flight.
import { ApiError, Messages } from "./errors.ts";

export class RateThrottler {
  private minute = 0;
  private count = 0;

  constructor(private readonly perMinute: () => number) {}

  check(): void {
    const now = Math.floor(Date.now() / 60_000);
    if (now !== this.minute) {
      this.minute = now;
      this.count = 0;
    }
    this.count += 1;
    const allowed = this.perMinute();
    if (this.count > allowed) throw new ApiError(429, Messages.tooManyRequests(this.count, allowed));
  }
}

export class ConcurrencyThrottler {
  inFlight = 0;

  constructor(private readonly allowed: () => number) {}

  check(): void {
    const allowed = this.allowed();
    if (this.inFlight >= allowed) throw new ApiError(429, Messages.tooManyConcurrent(this.inFlight, allowed));
  }

  /** Counts one activation in flight until the returned promise settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight += 1;
    return work.finally(() => {
      this.inFlight -= 1;
    });
  }
}
