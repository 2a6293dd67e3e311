/**
 * The runner's handle on a client in a lab's client host: typed calls for each socket
 * primitive, and the process-level faults (crash, freeze, thaw). The sockets are made in the
 * client host's namespace by the runner itself and driven by its own event loop (agent.ts);
 * a client that must be able to die or stop has a holder process too (holder.ts).
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import type { Lab } from "../lab/lab.ts";
import { readProcStat } from "../process/proc_stat.ts";
import type { Child } from "../process/spawn.ts";
import { Agent, UsageError } from "./agent.ts";
import { killHolder, spawnHolder } from "./holder.ts";
import { Poller } from "./poller.ts";
import type { Payload } from "../target/define_target.ts";
import type { CommandOf, ConnectCommand, Op, Outcome } from "./protocol.ts";

/** A command's own timeout when the caller gives none. */
const DEFAULT_TIMEOUT_MS = 5000;

/** How a ClientAgent behaves. */
export interface ClientAgentOptions {
  /**
   * Hold the sockets in a small process too, so that `crash()` (SIGKILL) and `freeze()`
   * (SIGSTOP) have a process to act on. Without one, those calls are refused.
   */
  holder?: boolean;
  /** How much longer than its own timeout a command sent to a frozen client waits (default 2000). */
  replyGraceMs?: number;
}

/** Options of `connect`: see ConnectCommand; `timeoutMs` defaults to 5000. */
export type ConnectOptions = Omit<ConnectCommand, "op" | "timeoutMs"> & { timeoutMs?: number };

/** Options of `read`: see ReadCommand; `timeoutMs` defaults to 5000. */
export interface ReadOptions {
  /** The last bytes of the response (text is UTF-8). */
  until?: Payload;
  bytes?: number;
  timeoutMs?: number;
}

/**
 * The harness failed, not the socket: a command to a client that was killed or stopped, one
 * to a frozen client that ran out of time, or a malformed command. What a socket did is never
 * thrown, it is in the Outcome.
 */
export class ClientAgentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientAgentError";
  }
}

interface Pending {
  op: Op;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

let poller: Poller | undefined;

/** One poll loop for every client of this runner: one thread waits on all their sockets. */
function sharedPoller(): Poller {
  poller ??= new Poller();
  return poller;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A client in a lab's client host.
 *
 * @example
 * ```ts ignore
 * const agent = await ClientAgent.start(lab);
 * try {
 *   const c = await agent.connect({ address: SERVER.v4, port: 7000, bind: CLIENT.v4 });
 *   if (!c.ok) throw new Error(c.message);
 *   await agent.send(c.conn, "PING\n");
 *   const r = await agent.read(c.conn, { until: "PONG\n" });
 *   const abortedAt = (await agent.abort(c.conn)).t;
 * } finally {
 *   await agent.stop();
 * }
 * ```
 */
export class ClientAgent {
  /** The namespace its sockets live in. */
  readonly netns: string;
  readonly #agent: Agent;
  readonly #holds: boolean;
  readonly #replyGraceMs: number;
  readonly #pending = new Set<Pending>();
  #holder: Child | undefined;
  /** The holder replacements in order; a failed one is kept to be thrown by crash or freeze. */
  #holding: Promise<void> = Promise.resolve();
  #holderStale = false;
  #holderFailure: unknown;
  #endedAs: string | undefined;

  private constructor(netns: string, options: ClientAgentOptions) {
    this.netns = netns;
    this.#holds = options.holder === true;
    this.#replyGraceMs = options.replyGraceMs ?? 2000;
    this.#agent = new Agent({
      netns,
      poller: sharedPoller(),
      // The holder must let go of a socket first, or the close would not reach the wire.
      ...(this.#holds ? { beforeClose: () => this.#replaceHolder() } : {}),
    });
  }

  /** A client in the lab's client host; with `holder`, its holder process is running. */
  static start(lab: Pick<Lab, "hosts">, options: ClientAgentOptions = {}): Promise<ClientAgent> {
    const agent = new ClientAgent(lab.hosts.client, options);
    if (agent.#holds) agent.#holder = spawnHolder([]);
    return Promise.resolve(agent);
  }

  /** The pid of the process that holds the sockets: the holder, or the runner itself. */
  get pid(): number {
    return this.#holder?.pid ?? Deno.pid;
  }

  /** Opens a connection: `conn` is its id for the other calls, `local` its local address. */
  async connect(options: ConnectOptions): Promise<Outcome<"connect">> {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, ...rest } = options;
    const out = await this.#call({ op: "connect", ...rest, timeoutMs });
    // The holder takes the socket now, so that a crash or freeze later has nothing to wait for.
    if (out.ok && this.#holds) await this.#refreshHolder();
    return out;
  }

  /** Sends `data` (text as UTF-8) in full, or reports how much went before the failure. */
  send(
    conn: number,
    data: Payload,
    options: { timeoutMs?: number } = {},
  ): Promise<Outcome<"send">> {
    return this.#call({
      op: "send",
      conn,
      data,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  /** Reads until the marker, the byte count, or the server's FIN (see ReadCommand). */
  read(conn: number, options: ReadOptions = {}): Promise<Outcome<"read">> {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, ...rest } = options;
    return this.#call({ op: "read", conn, ...rest, timeoutMs });
  }

  /** Ends the read under way on `conn` (if any), leaving the socket as it is. */
  stopReading(conn: number): Promise<Outcome<"stopReading">> {
    return this.#call({ op: "stopReading", conn });
  }

  /** `shutdown(SHUT_WR)`: FIN; the connection can still read. */
  halfClose(conn: number): Promise<Outcome<"halfClose">> {
    return this.#call({ op: "halfClose", conn });
  }

  /** `close()`: FIN, or RST when unread data sits in the receive buffer. */
  close(conn: number): Promise<Outcome<"close">> {
    return this.#call({ op: "close", conn });
  }

  /** `SO_LINGER {1, 0}` + `close()`: RST. */
  abort(conn: number): Promise<Outcome<"abort">> {
    return this.#call({ op: "abort", conn });
  }

  /** The connection's endpoints, kernel state, effective buffer sizes and unread bytes. */
  info(conn: number): Promise<Outcome<"info">> {
    return this.#call({ op: "info", conn });
  }

  /**
   * SIGKILLs the holder right after the runner let go of the sockets: the kernel closes them as
   * the holder exits (FIN, or RST where data was unread). Calls under way reject. Resolves, once
   * it has exited, with the monotonic time of the kill.
   */
  async crash(): Promise<number> {
    const holder = await this.#currentHolder("crash");
    this.#end(`was killed by "SIGKILL"`);
    this.#agent.dropAll();
    const exited = killHolder(holder);
    const t = monotonicMs();
    await this.#bounded(exited, 5000, "exit after SIGKILL");
    return t;
  }

  /**
   * Stops the client: the runner reads and sends nothing more on its sockets and the holder is
   * SIGSTOPped; resolves, once it is stopped, with the monotonic time of the signal.
   */
  async freeze(): Promise<number> {
    const holder = await this.#currentHolder("freeze");
    this.#agent.freeze();
    return await this.#signalUntil(holder, "SIGSTOP", (state) => state === "T");
  }

  /** Resumes a frozen client; resolves, once the holder runs again, with the time of the signal. */
  async thaw(): Promise<number> {
    const holder = await this.#currentHolder("thaw");
    const t = await this.#signalUntil(holder, "SIGCONT", (state) => state !== "T");
    this.#agent.thaw();
    return t;
  }

  /** Closes its sockets (as on exit) and ends its holder; safe to call twice. */
  async stop(): Promise<void> {
    this.#end("was stopped");
    await this.#holding;
    await this.#agent.closeAll();
    if (this.#holder) await this.#bounded(killHolder(this.#holder), 5000, "exit after SIGKILL");
  }

  /** The holder, once it holds every open socket; a ClientAgentError without one. */
  async #currentHolder(what: string): Promise<Child> {
    if (this.#endedAs !== undefined) {
      throw new ClientAgentError(`Client agent ${this.#endedAs} before "${what}"`);
    }
    await this.#holding;
    if (this.#holderFailure !== undefined) throw this.#holderFailure;
    if (!this.#holder) {
      throw new ClientAgentError(
        `Client agent has no process to "${what}": start it with "holder: true"`,
      );
    }
    return this.#holder;
  }

  /** A new holder soon, one for any number of connections opened meanwhile. */
  #refreshHolder(): Promise<void> {
    if (!this.#holderStale) {
      this.#holderStale = true;
      this.#replaceHolder();
    }
    return this.#holding;
  }

  /** Replaces the holder by one with the descriptors open now, after any replacement under way. */
  #replaceHolder(): Promise<void> {
    this.#holding = this.#holding.then(async () => {
      this.#holderStale = false;
      if (this.#endedAs !== undefined || this.#holderFailure !== undefined) return;
      try {
        const old = this.#holder;
        this.#holder = spawnHolder(this.#agent.descriptors());
        if (this.#agent.frozen) this.#holder.signal("SIGSTOP");
        if (old) await this.#bounded(killHolder(old), 5000, "exit after SIGKILL");
      } catch (error) {
        this.#holderFailure = error;
      }
    });
    return this.#holding;
  }

  /** No more commands: those under way reject with the reason. */
  #end(reason: string): void {
    if (this.#endedAs !== undefined) return;
    this.#endedAs = reason;
    for (const pending of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new ClientAgentError(`Client agent ${reason} before replying to "${pending.op}"`),
      );
    }
    this.#pending.clear();
  }

  async #signalUntil(
    holder: Child,
    signal: "SIGSTOP" | "SIGCONT",
    reached: (state: string) => boolean,
  ): Promise<number> {
    holder.signal(signal);
    const t = monotonicMs();
    // Bounded: a signal is acted on within microseconds; 2 s means something is wrong.
    for (let i = 0; i < 2000; i++) {
      const state = readProcStat(holder.pid)?.state;
      if (state === undefined) break;
      if (reached(state)) return t;
      await delay(1);
    }
    throw new ClientAgentError(
      `Client holder "${holder.pid}" did not act on "${signal}": state "${
        readProcStat(holder.pid)?.state
      }"`,
    );
  }

  async #bounded(promise: Promise<unknown>, ms: number, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
    const first = await Promise.race([promise, late]);
    clearTimeout(timer);
    if (first === "late") {
      throw new ClientAgentError(`Client holder did not ${what} within "${ms}" ms`);
    }
  }

  /**
   * Runs a command. A frozen client answers nothing: a command sent meanwhile waits at most its
   * own timeout plus the grace, as a stopped process's reply would, then rejects.
   */
  #call<O extends Op>(command: CommandOf<O>): Promise<Outcome<O>> {
    if (this.#endedAs !== undefined) {
      return Promise.reject(
        new ClientAgentError(`Client agent ${this.#endedAs} before "${command.op}" was sent`),
      );
    }
    return new Promise<Outcome<O>>((resolve, reject) => {
      const pending: Pending = { op: command.op, reject };
      if (this.#agent.frozen) {
        const within = ("timeoutMs" in command ? command.timeoutMs : 0) + this.#replyGraceMs;
        pending.timer = setTimeout(() => {
          this.#pending.delete(pending);
          reject(
            new ClientAgentError(
              `No reply from the client agent to "${command.op}" within "${within}" ms`,
            ),
          );
        }, within);
      }
      this.#pending.add(pending);
      this.#agent.run(command).then(
        (outcome) => {
          if (this.#pending.delete(pending)) resolve(outcome);
        },
        (error) => {
          if (!this.#pending.delete(pending)) return;
          reject(
            error instanceof UsageError
              ? new ClientAgentError(`Client agent refused "${command.op}": ${error.message}`)
              : error,
          );
        },
      ).finally(() => clearTimeout(pending.timer));
    });
  }
}
