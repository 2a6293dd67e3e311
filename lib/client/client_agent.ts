/**
 * The runner's handle on a client agent (agent.ts) running in a lab's client host: typed
 * calls for each socket primitive, and the process-level faults (crash, freeze, thaw).
 *
 * @module
 */

import { monotonicMs } from "../libc/libc.ts";
import type { Lab } from "../lab/lab.ts";
import { type Child, spawn } from "../process/spawn.ts";
import {
  type CommandOf,
  type ConnectCommand,
  encodeLine,
  type Op,
  type Outcome,
  readLines,
  type Reply,
  toWire,
} from "./protocol.ts";

const AGENT = new URL("./agent.ts", import.meta.url).href;
/** A command's own timeout when the caller gives none. */
const DEFAULT_TIMEOUT_MS = 5000;
const STDERR_TAIL = 2000;

/** How a ClientAgent waits. */
export interface ClientAgentOptions {
  /** How long the agent may take to start and answer its first command (default 10000). */
  startTimeoutMs?: number;
  /** How much longer than a command's own timeout its reply may take (default 2000). */
  replyGraceMs?: number;
}

/** Options of `connect`: see ConnectCommand; `timeoutMs` defaults to 5000. */
export type ConnectOptions = Omit<ConnectCommand, "op" | "timeoutMs"> & { timeoutMs?: number };

/** Options of `read`: see ReadCommand; `timeoutMs` defaults to 5000. */
export interface ReadOptions {
  /** The last bytes of the response (text is UTF-8). */
  until?: string | Uint8Array;
  bytes?: number;
  timeoutMs?: number;
}

/**
 * The harness failed, not the socket: the agent did not start, did not reply in time, exited,
 * or refused a malformed command. What a socket did is never thrown, it is in the Outcome.
 */
export class ClientAgentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientAgentError";
  }
}

interface Pending {
  op: Op;
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The one-letter state in /proc/<pid>/stat (R, S, T, Z, ...), or undefined once gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

/**
 * A client agent running in a lab's client host.
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
  /** The agent's pid (the process itself: `ip netns exec` execs it in place). */
  readonly pid: number;
  /** The namespace it runs in. */
  readonly netns: string;
  /** Resolves once the agent has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Child;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replyGraceMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #done: Promise<void>;
  #nextSeq = 1;
  #stderr = "";
  #exitedAs: string | undefined;

  private constructor(child: Child, netns: string, options: ClientAgentOptions) {
    this.#child = child;
    this.pid = child.pid;
    this.netns = netns;
    this.status = child.status;
    this.#replyGraceMs = options.replyGraceMs ?? 2000;
    this.#writer = child.process.stdin.getWriter();
    this.#done = Promise.allSettled([this.#readReplies(), this.#readStderr()]).then(() => {});
  }

  /** Starts an agent in the lab's client host and waits until it answers. */
  static async start(
    lab: Pick<Lab, "hosts">,
    options: ClientAgentOptions = {},
  ): Promise<ClientAgent> {
    const child = spawn([Deno.execPath(), "run", "--allow-all", AGENT], {
      netns: lab.hosts.client,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const agent = new ClientAgent(child, lab.hosts.client, options);
    try {
      const hello = await agent.#call({ op: "hello" }, options.startTimeoutMs ?? 10000);
      if (!hello.ok || hello.pid !== child.pid) {
        throw new ClientAgentError(
          `Client agent answered as pid "${hello.ok ? hello.pid : "?"}", expected "${child.pid}"`,
        );
      }
    } catch (error) {
      await agent.stop();
      throw error;
    }
    return agent;
  }

  /** Opens a connection: `conn` is its id for the other calls, `local` its local address. */
  connect(options: ConnectOptions): Promise<Outcome<"connect">> {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, ...rest } = options;
    return this.#call({ op: "connect", ...rest, timeoutMs });
  }

  /** Sends `data` (text as UTF-8) in full, or reports how much went before the failure. */
  send(
    conn: number,
    data: string | Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<Outcome<"send">> {
    return this.#call({
      op: "send",
      conn,
      data: toWire(data),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  /** Reads until the marker, the byte count, or the server's FIN (see ReadCommand). */
  read(conn: number, options: ReadOptions = {}): Promise<Outcome<"read">> {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, until, ...rest } = options;
    return this.#call({
      op: "read",
      conn,
      ...rest,
      ...(until === undefined ? {} : { until: toWire(until) }),
      timeoutMs,
    });
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

  /** The connection's endpoints, kernel state and effective buffer sizes. */
  info(conn: number): Promise<Outcome<"info">> {
    return this.#call({ op: "info", conn });
  }

  /**
   * SIGKILLs the agent: the kernel closes its sockets (FIN, or RST where data was unread).
   * Resolves, once it has exited, with the monotonic time of the kill.
   */
  async crash(): Promise<number> {
    this.#child.signal("SIGKILL");
    const t = monotonicMs();
    await this.#bounded(this.#done, 5000, "exit after SIGKILL");
    return t;
  }

  /** SIGSTOPs the agent; resolves, once it is stopped, with the monotonic time of the signal. */
  freeze(): Promise<number> {
    return this.#signalUntil("SIGSTOP", (state) => state === "T");
  }

  /** SIGCONTs a frozen agent; resolves, once it runs again, with the time of the signal. */
  thaw(): Promise<number> {
    return this.#signalUntil("SIGCONT", (state) => state !== "T");
  }

  /** Ends the agent (its sockets close as on exit) and waits for it; safe to call twice. */
  async stop(): Promise<void> {
    if (this.#exitedAs === undefined) {
      // Closing stdin is the agent's cue to exit (SIGCONT first, should it be frozen); end()
      // (SIGTERM, then SIGKILL) if it won't.
      this.#child.signal("SIGCONT");
      await this.#writer.close().catch(() => {});
      const gone = await Promise.race([this.#done.then(() => true), delay(2000).then(() => false)]);
      if (!gone) await this.#child.end();
    }
    await this.#done;
  }

  async #signalUntil(
    signal: "SIGSTOP" | "SIGCONT",
    reached: (state: string) => boolean,
  ): Promise<number> {
    this.#child.signal(signal);
    const t = monotonicMs();
    // Bounded: a signal is acted on within microseconds; 2 s means something is wrong.
    for (let i = 0; i < 2000; i++) {
      const state = processState(this.pid);
      if (state === undefined) break;
      if (reached(state)) return t;
      await delay(1);
    }
    throw new ClientAgentError(
      `Client agent "${this.pid}" did not act on "${signal}": state "${processState(this.pid)}"`,
    );
  }

  async #bounded(promise: Promise<void>, ms: number, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
    const first = await Promise.race([promise, late]);
    clearTimeout(timer);
    if (first === "late") {
      throw new ClientAgentError(`Client agent "${this.pid}" did not ${what} within "${ms}" ms`);
    }
  }

  #call<O extends Op>(command: CommandOf<O>, waitMs?: number): Promise<Outcome<O>> {
    if (this.#exitedAs !== undefined) {
      return Promise.reject(
        new ClientAgentError(`Client agent ${this.#exitedAs} before "${command.op}" was sent`),
      );
    }
    const within = waitMs ??
      ("timeoutMs" in command ? command.timeoutMs : 0) + this.#replyGraceMs;
    const seq = this.#nextSeq++;
    return new Promise<Outcome<O>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(
          new ClientAgentError(
            `No reply from the client agent to "${command.op}" within "${within}" ms`,
          ),
        );
      }, within);
      this.#pending.set(seq, {
        op: command.op,
        resolve: (reply) => {
          const { seq: _seq, usage, ...outcome } = reply;
          if (usage && !outcome.ok) {
            reject(
              new ClientAgentError(`Client agent refused "${command.op}": ${outcome.message}`),
            );
          } else resolve(outcome as Outcome<O>);
        },
        reject,
        timer,
      });
      this.#writer.write(encodeLine({ ...command, seq })).catch(() => {
        // The agent is gone; the exit handler rejects this call with the reason.
      });
    });
  }

  async #readReplies(): Promise<void> {
    try {
      for await (const line of readLines(this.#child.process.stdout)) {
        let reply: Reply;
        try {
          reply = JSON.parse(line);
        } catch {
          this.#stderr = (this.#stderr + `\nUnparsable reply: ${line}`).slice(-STDERR_TAIL);
          continue;
        }
        const pending = this.#pending.get(reply.seq);
        // A reply after its wait ran out (say, from a thawed agent) has no one left to tell.
        if (!pending) continue;
        this.#pending.delete(reply.seq);
        clearTimeout(pending.timer);
        pending.resolve(reply);
      }
    } finally {
      const status = await this.#child.status;
      this.#exitedAs = status.signal === null
        ? `exited with code "${status.code}"`
        : `was killed by "${status.signal}"`;
      await this.#writer.close().catch(() => {});
      const stderr = this.#stderr.trim();
      for (const [seq, pending] of this.#pending) {
        this.#pending.delete(seq);
        clearTimeout(pending.timer);
        pending.reject(
          new ClientAgentError(
            `Client agent ${this.#exitedAs} before replying to "${pending.op}"${
              stderr ? `: ${stderr}` : ""
            }`,
          ),
        );
      }
    }
  }

  async #readStderr(): Promise<void> {
    for await (const text of this.#child.process.stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    }
  }
}
