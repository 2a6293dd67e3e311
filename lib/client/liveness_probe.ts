/**
 * The liveness probe: a second, healthy client that keeps doing one small request/response
 * while a fault hits the client under test. Its latency shows whether one dead client stalls
 * everyone else. It connects from the BYSTANDER address, which faults aimed at CLIENT never
 * match, and runs in its own agent, so crashing or freezing the client under test spares it.
 *
 * @module
 */

import type { LivenessSample } from "../observe/observations.ts";

export type { LivenessSample };
import { BYSTANDER } from "../lab/address_plan.ts";
import type { Lab } from "../lab/lab.ts";
import { monotonicMs } from "../libc/libc.ts";
import type { Exchange } from "../target/define_target.ts";
import { ClientAgent, type ClientAgentOptions } from "./client_agent.ts";

/** What to probe and how often. */
export interface LivenessProbeOptions {
  /** The server's address (literal IPv4 or IPv6; the probe binds BYSTANDER of that family). */
  address: string;
  port: number;
  /** The request/response to repeat. */
  exchange: Exchange;
  /** Sent once on each new connection before the first exchange (a protocol's session start). */
  greeting?: Exchange;
  /** A new connection for every exchange (a request that cannot be repeated on one). */
  fresh?: boolean;
  /** Time between the starts of two exchanges (longer when an exchange takes longer). */
  intervalMs: number;
  /** How long one exchange (connecting when needed, sending, reading) may take. */
  timeoutMs: number;
  /** How the probe's own agent waits (see ClientAgent). */
  agent?: ClientAgentOptions;
}

/**
 * A running liveness probe.
 *
 * @example
 * ```ts ignore
 * const probe = await LivenessProbe.start(lab, {
 *   address: SERVER.v4, port: 7000, exchange: { send: "PING\n", until: "PONG\n" },
 *   intervalMs: 100, timeoutMs: 1000,
 * });
 * // ... apply the fault ...
 * const samples = await probe.stop();
 * ```
 */
export class LivenessProbe {
  readonly #agent: ClientAgent;
  readonly #options: LivenessProbeOptions;
  readonly #bind: string;
  readonly #samples: LivenessSample[] = [];
  readonly #running: Promise<void>;
  #conn: number | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #failure: unknown;

  private constructor(agent: ClientAgent, options: LivenessProbeOptions) {
    this.#agent = agent;
    this.#options = options;
    this.#bind = options.address.includes(":") ? BYSTANDER.v6 : BYSTANDER.v4;
    this.#running = this.#run().catch((error) => {
      this.#failure = error;
    });
  }

  /** Starts the probe's agent in the lab's client host and its first exchange right away. */
  static async start(
    lab: Pick<Lab, "hosts">,
    options: LivenessProbeOptions,
  ): Promise<LivenessProbe> {
    if (!(options.intervalMs > 0) || !(options.timeoutMs > 0)) {
      throw new RangeError(
        `Invalid liveness probe timing: intervalMs "${options.intervalMs}" and timeoutMs "${options.timeoutMs}" must be > 0`,
      );
    }
    return new LivenessProbe(await ClientAgent.start(lab, options.agent ?? {}), options);
  }

  /** Resolves once the first exchange has ended (or after `timeoutMs`), whatever its outcome. */
  async firstSample(timeoutMs: number): Promise<LivenessSample | undefined> {
    const until = monotonicMs() + timeoutMs;
    while (this.#samples.length === 0 && this.#failure === undefined && monotonicMs() < until) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.#samples[0];
  }

  /** The samples so far. */
  get samples(): readonly LivenessSample[] {
    return [...this.#samples];
  }

  /**
   * Lets the exchange in flight finish (it is bounded by `timeoutMs`), ends the probe, and
   * returns every sample. Throws if the probe's own agent failed.
   */
  async stop(): Promise<LivenessSample[]> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    await this.#agent.stop();
    if (this.#failure !== undefined) throw this.#failure;
    return [...this.#samples];
  }

  async #run(): Promise<void> {
    let next = monotonicMs();
    while (!this.#stopping) {
      await this.#sleep(next - monotonicMs());
      if (this.#stopping) break;
      const startedAt = monotonicMs();
      this.#samples.push(await this.#exchange(startedAt));
      next = startedAt + this.#options.intervalMs;
    }
    if (this.#conn !== undefined) await this.#drop();
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * One exchange. A request on a kept-alive connection that the server closes before any byte
   * of its answer (EOF: it closed the idle connection as the request left, which HTTP lets a
   * server do, RFC 9112 §9.3.1) is sent again once on a new connection, as clients do; only
   * that second try counts.
   */
  async #exchange(startedAt: number): Promise<LivenessSample> {
    const first = await this.#tryExchange(startedAt);
    if (first.ok || first.reconnected || first.error !== "EOF") return first;
    return await this.#tryExchange(startedAt);
  }

  async #tryExchange(startedAt: number): Promise<LivenessSample> {
    const { address, port, exchange, timeoutMs } = this.#options;
    const agent = this.#agent;
    const deadline = startedAt + timeoutMs;
    const left = () => Math.max(1, Math.round(deadline - monotonicMs()));
    if (this.#conn !== undefined) {
      // The server may have closed an idle connection meanwhile (its FIN or RST arrived).
      const info = await agent.info(this.#conn);
      if (!info.ok || info.state !== "ESTABLISHED") await this.#drop();
    }
    const reconnected = this.#conn === undefined;
    if (this.#conn === undefined) {
      const c = await agent.connect({ address, port, bind: this.#bind, timeoutMs: left() });
      if (!c.ok) return { startedAt, endedAt: c.t, ok: false, reconnected, error: c.error };
      this.#conn = c.conn;
      const greeting = this.#options.greeting;
      if (greeting) {
        const hello = await agent.send(c.conn, greeting.send, { timeoutMs: left() });
        const answer = hello.ok
          ? await agent.read(c.conn, { until: greeting.until, timeoutMs: left() })
          : hello;
        if (!answer.ok || !("found" in answer) || !answer.found) {
          await this.#drop();
          return {
            startedAt,
            endedAt: answer.t,
            ok: false,
            reconnected,
            error: answer.ok ? "EOF" : answer.error,
          };
        }
      }
    }
    const conn = this.#conn;
    const sent = await agent.send(conn, exchange.send, { timeoutMs: left() });
    if (!sent.ok) {
      await this.#drop();
      return { startedAt, endedAt: sent.t, ok: false, reconnected, error: sent.error };
    }
    const read = await agent.read(conn, { until: exchange.until, timeoutMs: left() });
    const sample = { startedAt, sentAt: sent.t, endedAt: read.t, reconnected };
    if (read.ok && read.found) {
      if (this.#options.fresh) await this.#drop();
      return { ...sample, ok: true, latencyMs: read.t - sent.t };
    }
    // A late response would answer the next request: start over on a new connection.
    await this.#drop();
    const error = !read.ok ? read.error : read.bytes ? `EOF after ${read.bytes} bytes` : "EOF";
    return { ...sample, ok: false, error };
  }

  async #drop(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) await this.#agent.close(conn);
  }
}
