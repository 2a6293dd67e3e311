/**
 * Bounded concurrency: a gate that lets only so many callers through a section at once.
 *
 * @module
 */

/** Lets at most `slots` callers run `section` at once; the others queue in order. */
export class Gate {
  #free: number;
  readonly #queue: (() => void)[] = [];

  /** A gate of `slots` slots (at least one). */
  constructor(slots: number) {
    this.#free = Math.max(1, slots);
  }

  /** Runs `section` once a slot is free. */
  async through<T>(section: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await section();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
