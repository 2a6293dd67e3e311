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

/**
 * How long `release()` waits at most, without yielding, for the poll in flight to return once
 * woken (the poll thread needs to be scheduled); then it awaits it.
 */
const RELEASE_SPIN_MS = 20;

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
  /** The descriptors of the poll in flight: the kernel writes their revents as it returns. */
  #set: Uint8Array | undefined;
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
      // A close is a fault's moment: it must not wait for the event loop to hear that the poll
      // returned, which on a busy runner takes as long as the runner is late. The kernel writes
      // the revents only after it has let go of every polled file (do_sys_poll: poll_freewait,
      // then the copy out), so once one shows, nothing references `fd` any more.
      const until = monotonicMs() + RELEASE_SPIN_MS;
      while (!this.#returned() && monotonicMs() < until) { /* the poll thread is waking */ }
      if (!this.#returned()) await this.#inFlight;
    }
  }

  /** Whether the poll in flight has returned with something ready (its revents are out). */
  #returned(): boolean {
    const set = this.#set;
    if (!set) return true;
    for (let i = 0; i < set.length / 8; i++) if (revents(set, i) !== 0) return true;
    return false;
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
        const set = this.#set = pollFds([{ fd: this.#wake, events: POLLIN }, ...waiters]);
        this.#inFlight = libc().poll_async(set, BigInt(waiters.length + 1), timeout);
        await this.#inFlight;
        this.#inFlight = undefined;
        this.#set = undefined;
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
