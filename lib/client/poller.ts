/**
 * One poll() loop for every socket the agent waits on, so a single worker thread serves many
 * connections and the main thread stays free for commands.
 *
 * Why `release()` exists: a thread blocked in poll() holds a reference to each file it polls,
 * so a close() meanwhile would not free the socket, and its FIN or RST would leave only when
 * that poll returned. `release()` wakes the loop (an eventfd in every poll set) and waits for
 * the poll in flight to return before the caller closes the descriptor.
 *
 * @module
 */

import {
  check,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  libc,
  monotonicMs,
  pollFds,
  POLLIN,
  revents,
} from "../libc/libc.ts";

/** Why a wait ended without the socket becoming ready. */
export type WaitEnd = "timeout" | "released";

interface Waiter {
  fd: number;
  events: number;
  deadline: number;
  resolve(result: number | WaitEnd): void;
}

/** Waits on many descriptors at once with one poll() in flight. */
export class Poller {
  readonly #wake: number;
  readonly #waiters = new Set<Waiter>();
  #inFlight: Promise<number> | undefined;
  #running = false;

  constructor() {
    this.#wake = check("eventfd", libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  }

  /**
   * Resolves with the poll revents once `fd` is ready for `events` (errors and hang-ups
   * count as ready), "timeout" at `deadline` (monotonic ms), or "released".
   */
  wait(fd: number, events: number, deadline: number): Promise<number | WaitEnd> {
    return new Promise((resolve) => {
      this.#waiters.add({ fd, events, deadline, resolve });
      if (this.#running) this.#signal();
      else this.#loop();
    });
  }

  /**
   * Ends every wait on `fd` and wakes the poll in flight at once (before the first await);
   * resolves once no poll references `fd` any more.
   */
  async release(fd: number): Promise<void> {
    let waited = false;
    for (const waiter of this.#waiters) {
      if (waiter.fd !== fd) continue;
      this.#waiters.delete(waiter);
      waiter.resolve("released");
      waited = true;
    }
    if (waited && this.#inFlight) {
      this.#signal();
      await this.#inFlight;
    }
  }

  #signal(): void {
    libc().write(this.#wake, new BigUint64Array([1n]), 8n);
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.size > 0) {
        const waiters = [...this.#waiters];
        const soonest = Math.min(...waiters.map((w) => w.deadline));
        const timeout = Math.max(0, Math.ceil(soonest - monotonicMs()));
        const set = pollFds([{ fd: this.#wake, events: POLLIN }, ...waiters]);
        this.#inFlight = libc().poll_async(set, BigInt(waiters.length + 1), timeout);
        await this.#inFlight;
        this.#inFlight = undefined;
        // Drained after every poll: the eventfd only ever means "look again".
        if (revents(set, 0)) libc().read(this.#wake, new BigUint64Array(1), 8n);
        const now = monotonicMs();
        waiters.forEach((waiter, i) => {
          if (!this.#waiters.has(waiter)) return;
          const ready = revents(set, i + 1);
          if (ready === 0 && waiter.deadline > now) return;
          this.#waiters.delete(waiter);
          waiter.resolve(ready === 0 ? "timeout" : ready);
        });
      }
    } finally {
      this.#running = false;
    }
  }
}
