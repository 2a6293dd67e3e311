/**
 * Trying a target once, in seconds: its server is started in a lab as a scenario would start
 * it, and (for `clientdown check`) each exchange of its protocol is made on a real connection,
 * saying what came back. A server that exits or never listens throws TargetStartError (the
 * target's mistake, with the server's last lines); an exchange that does not complete is
 * reported with what the server sent and its stderr tail.
 *
 * @module
 */

import { CLIENT, SERVER } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { ClientAgent } from "../client/client_agent.ts";
import type { Outcome } from "../client/protocol.ts";
import type { Exchange, Payload, TargetDefinition } from "../target/define_target.ts";
import { logTail, type RunningTarget, startTarget } from "../target/start_target.ts";
import { formatMs } from "../time/duration.ts";

/** How long each exchange of a check may take. */
const EXCHANGE_MS = 3000;
/** How long a check listens for bytes past `until`, and for an answer to the partial request. */
const QUIET_MS = 500;

/** What one exchange of a check saw. */
export interface ExchangeCheck {
  /** Which exchange: `protocol.request`, `protocol.partialRequest`, … */
  exchange: string;
  ok: boolean;
  /** What happened, in words. */
  said: string;
  /** The first bytes the server sent, when they matter (the exchange failed). */
  received?: string;
  /** The server closed the connection before sending a byte. */
  closed?: true;
}

/** What a check saw: how fast the server listened, and each exchange. */
export interface TargetCheck {
  target: string;
  readyMs: number;
  exchanges: ExchangeCheck[];
  /** The server's last lines, when an exchange failed. */
  logTail?: string;
}

/** Payload bytes as shown to a person: text when printable, else hex. */
export function shownPayload(payload: Payload | string): string {
  return typeof payload === "string" ? JSON.stringify(payload) : `hex ${hexOf(payload)}`;
}

function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

function elapsed(from: number, read: { t: number }): string {
  return formatMs(Math.max(0, read.t - from));
}

/** Starts the target in a fresh lab (IPv4), runs `use` with it, then tears everything down. */
export async function withTargetInLab<T>(
  target: TargetDefinition,
  use: (server: RunningTarget, agent: () => Promise<ClientAgent>) => Promise<T>,
): Promise<T> {
  const lab = await createLab();
  let server: RunningTarget | undefined;
  let agent: ClientAgent | undefined;
  try {
    server = await startTarget(target, lab, "v4");
    return await use(server, async () => agent ??= await ClientAgent.start(lab));
  } finally {
    await Promise.allSettled([agent?.stop(), server?.stop()]);
    await lab.teardown();
  }
}

/** Starts the target once in a lab and stops it: throws TargetStartError when it cannot. */
export async function checkTargetStarts(target: TargetDefinition): Promise<void> {
  await withTargetInLab(target, () => Promise.resolve());
}

type Agent = ClientAgent;

async function connect(agent: Agent, server: RunningTarget): Promise<number | string> {
  const c = await agent.connect({
    address: SERVER.v4,
    port: server.port,
    bind: CLIENT.v4,
    timeoutMs: EXCHANGE_MS,
  });
  return c.ok ? c.conn : `could not connect: ${c.error}`;
}

function failedRead(name: string, exchange: Exchange, read: Outcome<"read">): ExchangeCheck {
  const what = read.ok && read.eof
    ? "the server closed the connection"
    : read.ok || read.error === "ETIMEDOUT"
    ? `nothing more came in ${formatMs(EXCHANGE_MS)}`
    : `the read failed: ${read.error}`;
  return {
    exchange: name,
    ok: false,
    said: `its until ${shownPayload(exchange.until)} never arrived: ${what} after ${read.bytes} ` +
      "bytes",
    received: read.head,
    ...(read.ok && read.eof && read.bytes === 0 ? { closed: true as const } : {}),
  };
}

/** Sends an exchange and reads up to its `until`; then listens briefly for bytes past it. */
async function exchangeOn(
  agent: Agent,
  conn: number,
  name: string,
  exchange: Exchange,
): Promise<ExchangeCheck> {
  const sent = await agent.send(conn, exchange.send, { timeoutMs: EXCHANGE_MS });
  if (!sent.ok) return { exchange: name, ok: false, said: `sending failed: ${sent.error}` };
  const read = await agent.read(conn, { until: exchange.until, timeoutMs: EXCHANGE_MS });
  if (!read.ok || !read.found) return failedRead(name, exchange, read);
  const after = await agent.read(conn, { bytes: 1 << 20, timeoutMs: QUIET_MS });
  const extra = after.ok ? after.bytes : 0;
  if (extra) {
    return {
      exchange: name,
      ok: false,
      said: `answered ${read.bytes} bytes up to its until in ${elapsed(sent.t, read)}, then ` +
        `${extra} more: until must be the last bytes of the response (unread bytes turn a later ` +
        "close into a reset)",
      received: after.head,
    };
  }
  return {
    exchange: name,
    ok: true,
    said: `answered ${read.bytes} bytes in ${elapsed(sent.t, read)}, ending with its until`,
  };
}

/**
 * Starts the target in a lab and makes each exchange of its protocol: greeting, request (twice
 * on one connection, unless one request per connection), partial request (the server must wait
 * for the rest), large request (every byte of the response).
 */
export async function checkTarget(target: TargetDefinition): Promise<TargetCheck> {
  return await withTargetInLab(target, async (server, startAgent) => {
    const agent = await startAgent();
    const p = target.protocol;
    const exchanges: ExchangeCheck[] = [];
    let greetings = 0;
    const fresh = async (): Promise<number | ExchangeCheck> => {
      const conn = await connect(agent, server);
      if (typeof conn === "string") return { exchange: "connect", ok: false, said: conn };
      if (p.greeting) {
        const greeted = await exchangeOn(agent, conn, "protocol.greeting", p.greeting);
        if (!greeted.ok) return greeted;
        if (greetings++ === 0) exchanges.push(greeted); // once: every connection greets
      }
      return conn;
    };
    const run = async (check: (conn: number) => Promise<ExchangeCheck[]>) => {
      const conn = await fresh();
      if (typeof conn !== "number") return exchanges.push(conn);
      exchanges.push(...await check(conn));
      await agent.abort(conn);
    };
    await run(async (conn) => {
      const first = await exchangeOn(agent, conn, "protocol.request", p.request);
      if (!first.ok || p.oneRequestPerConnection) return [first];
      const again = await exchangeOn(agent, conn, "protocol.request (again)", p.request);
      if (again.closed) {
        // The suite's rule for such a server (INTERPRETING.md): not a mistake of the target.
        return [first, {
          exchange: again.exchange,
          ok: true,
          said: "the server closed the connection after its first response: scenarios that " +
            "need it open after an exchange are not applicable",
        }];
      }
      return [first, again];
    });
    await run(async (conn) => {
      const sent = await agent.send(conn, p.partialRequest, { timeoutMs: EXCHANGE_MS });
      if (!sent.ok) return [{ exchange: "protocol.partialRequest", ok: false, said: sent.error }];
      const read = await agent.read(conn, { bytes: 1, timeoutMs: QUIET_MS * 2 });
      const waited = read.ok ? read.bytes === 0 && !read.eof : read.error === "ETIMEDOUT";
      return [{
        exchange: "protocol.partialRequest",
        ok: waited,
        said: waited
          ? `the server waits for the rest (nothing back in ${formatMs(QUIET_MS * 2)})`
          : read.ok && read.eof
          ? "the server closed the connection: it should wait for the rest of the request"
          : "the server answered: it should wait for the rest of the request",
        ...(read.ok && read.bytes ? { received: read.head } : {}),
      }];
    });
    const large = p.largeRequest;
    if (large) {
      await run(async (conn) => {
        const sent = await agent.send(conn, large.send, { timeoutMs: EXCHANGE_MS });
        if (!sent.ok) return [{ exchange: "protocol.largeRequest", ok: false, said: sent.error }];
        const read = await agent.read(conn, { bytes: large.responseBytes, timeoutMs: 10_000 });
        const got = read.ok ? read.bytes : 0;
        return [{
          exchange: "protocol.largeRequest",
          ok: got >= large.responseBytes,
          said: got >= large.responseBytes
            ? `answered ${got} bytes in ${elapsed(sent.t, read)}`
            : `answered ${got} of the ${large.responseBytes} bytes of responseBytes`,
          ...(got < large.responseBytes && read.ok ? { received: read.head } : {}),
        }];
      });
    }
    const failed = exchanges.some((e) => !e.ok);
    const tail = failed ? await logTail(server.logPath) : "";
    return {
      target: target.id,
      readyMs: server.readyMs,
      exchanges,
      ...(tail ? { logTail: tail } : {}),
    };
  });
}
