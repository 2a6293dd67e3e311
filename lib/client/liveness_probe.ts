/**
 * The liveness probe: a second, healthy client that keeps doing one small request/response
 * while a fault hits the client under test. Its latency shows whether one dead client stalls
 * everyone else. It connects from the BYSTANDER address, which faults aimed at CLIENT never
 * match, and has its own ClientAgent, so crashing or freezing the client under test spares it.
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

/** The server's own close of the probe's connection, and its parting words if any. */
interface ServerClose {
  farewell?: string;
}

const FAREWELL_CHARS = 120;

function farewellOf(head: string | undefined): ServerClose {
  const farewell = head?.trim().slice(0, FAREWELL_CHARS);
  return farewell ? { farewell } : {};
}

function withClose(sample: LivenessSample, close: ServerClose | undefined): LivenessSample {
  return close === undefined ? sample : { ...sample, serverClosed: true, ...close };
}

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
  /** How the probe's own ClientAgent behaves. */
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

  /** Starts the probe in the lab's client host and its first exchange right away. */
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
   * returns every sample. Throws if the probe's own ClientAgent failed.
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
   * One exchange. The server may close the probe's kept connection on its own (an idle or login
   * timeout, with or without a parting line such as `421 Login timeout`): found before the
   * request, the probe reconnects; met by the request (the read ends at the server's FIN or RST
   * without the answer), the request is sent again, once, on a new connection, as any client
   * does (RFC 9112 §9.3.1). Either way the close is recorded on the sample and only the request
   * on the new connection counts.
   */
  async #exchange(startedAt: number): Promise<LivenessSample> {
    const idle = await this.#closedWhileIdle();
    const first = await this.#tryExchange(startedAt);
    if (first.closedByServer === undefined) return withClose(first.sample, idle);
    const second = await this.#tryExchange(monotonicMs());
    return withClose({ ...second.sample, startedAt }, first.closedByServer);
  }

  /**
   * Reads out what the server sent since the last exchange without being asked (a parting line,
   * or a protocol's own ping): it must not pass for the next answer. Drops the kept connection
   * when the server closed it meanwhile, and says so.
   */
  async #closedWhileIdle(): Promise<ServerClose | undefined> {
    const conn = this.#conn;
    if (conn === undefined) return undefined;
    const info = await this.#agent.info(conn);
    const unread = info.ok ? info.unread ?? 0 : 0;
    const said = unread > 0
      ? await this.#agent.read(conn, { bytes: unread, timeoutMs: 1 })
      : undefined;
    if (info.ok && info.state === "ESTABLISHED") return undefined;
    await this.#drop();
    return farewellOf(said?.head);
  }

  async #tryExchange(
    startedAt: number,
  ): Promise<{ sample: LivenessSample; closedByServer?: ServerClose }> {
    const { address, port, exchange, timeoutMs } = this.#options;
    const agent = this.#agent;
    const deadline = startedAt + timeoutMs;
    const left = (from = deadline) => Math.max(1, Math.round(from - monotonicMs()));
    const reconnected = this.#conn === undefined;
    if (this.#conn === undefined) {
      const c = await agent.connect({
        address,
        port,
        bind: this.#bind,
        rxTimestamps: true,
        timeoutMs: left(),
      });
      if (!c.ok) {
        return { sample: { startedAt, endedAt: c.t, ok: false, reconnected, error: c.error } };
      }
      this.#conn = c.conn;
      const greeting = this.#options.greeting;
      if (greeting) {
        const hello = await agent.send(c.conn, greeting.send, { timeoutMs: left() });
        const answer = hello.ok
          ? await agent.read(c.conn, { until: greeting.until, timeoutMs: left() })
          : hello;
        if (!answer.ok || !("found" in answer) || !answer.found) {
          await this.#drop();
          const error = answer.ok ? "EOF" : answer.error;
          return { sample: { startedAt, endedAt: answer.t, ok: false, reconnected, error } };
        }
      }
    }
    const conn = this.#conn;
    const sent = await agent.send(conn, exchange.send, { timeoutMs: left() });
    if (!sent.ok) {
      await this.#drop();
      const sample = { startedAt, endedAt: sent.t, ok: false, reconnected, error: sent.error };
      // EPIPE or ECONNRESET on a kept connection: the server had closed it.
      return reconnected ? { sample } : { sample, closedByServer: {} };
    }
    // The bound counts from the moment the request left, not from the start of the exchange.
    const answerBy = (sent.firstSendAt ?? sent.t) + timeoutMs;
    const read = await agent.read(conn, { until: exchange.until, timeoutMs: left(answerBy) });
    const sample = { startedAt, sentAt: sent.t, endedAt: read.t, reconnected };
    const from = sent.firstSendRealtimeMs;
    const to = read.firstByteRealtimeMs;
    // The stamp skips what waited as the send began; a byte that slipped in between that count
    // and the send syscall would precede the request: no figure then, the probe's own stands.
    const kernelLatencyMs = from !== undefined && to !== undefined && to >= from
      ? to - from
      : undefined;
    if (read.ok && read.found) {
      if (this.#options.fresh) await this.#drop();
      return {
        sample: {
          ...sample,
          ok: true,
          latencyMs: read.t - sent.t,
          ...(kernelLatencyMs === undefined ? {} : { kernelLatencyMs }),
        },
      };
    }
    // A late response would answer the next request: start over on a new connection.
    await this.#drop();
    const error = !read.ok ? read.error : read.bytes ? `EOF after ${read.bytes} bytes` : "EOF";
    const closed = (read.ok && read.eof) || (!read.ok && read.error === "ECONNRESET");
    return !reconnected && closed
      ? { sample: { ...sample, ok: false, error }, closedByServer: farewellOf(read.head) }
      : { sample: { ...sample, ok: false, error } };
  }

  async #drop(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) await this.#agent.close(conn);
  }
}
