/**
 * Target files: how to install, start and talk to one server. A target file default-exports
 * `defineTarget({...})`; users write one for their own server and pass its path to `--target`.
 *
 * @module
 */

/** One request and how to recognise the end of its response. */
export interface Exchange {
  /** Bytes the client sends (UTF-8). */
  send: string;
  /** A string whose arrival completes the response. */
  until: string;
}

/** The protocol exchanges the scenarios need. */
export interface TargetProtocol {
  /**
   * Sent once on every new connection before anything else, for protocols whose request
   * cannot be repeated on one connection without a session start (PostgreSQL's startup
   * message, MQTT's CONNECT). `connect({ greet: false })` leaves it out.
   */
  greeting?: Exchange;
  /**
   * The request can be made only once per connection and nothing repeatable follows (an SSH
   * banner): other clients use a new connection per probe, and a connection's survival is
   * judged by its state, not by another exchange.
   */
  oneRequestPerConnection?: boolean;
  /** A small request with a small response. */
  request: Exchange;
  /** The first bytes of a request that the server must wait for the rest of. */
  partialRequest: string;
  /**
   * A request whose response is far larger than any socket buffer. A protocol without one
   * leaves it out: the scenarios that need it are skipped as not applicable.
   */
  largeRequest?: { send: string; responseBytes: number };
}

/** What a target's `start` gets to build its command line. */
export interface StartContext {
  /** The server host's address the target must listen on. */
  address: string;
  /** The port the target must listen on. */
  port: number;
  /** The lab's own directory: configs, pid, log and data files go here. */
  dir: string;
}

/** How to start the target inside the server host. */
export interface StartSpec {
  argv: string[];
  env?: Record<string, string>;
  /** Files to write (path relative to the lab directory → content) before starting. */
  files?: Record<string, string>;
  /**
   * Commands run in the server host once it listens, in order, each to exit 0: loading the
   * data the exchanges need (e.g. a large value for the large request).
   */
  prepare?: string[][];
  /** The signal that ends the server quickly (default SIGTERM), e.g. SIGINT for PostgreSQL. */
  stopSignal?: Deno.Signal;
}

/**
 * A named configuration of the same server that changes how it treats dead clients
 * (e.g. redis `tcp-keepalive 60`). Selected as `<target>@<variant>` on the command line.
 */
export interface TargetVariant {
  /** What the variant is, e.g. "tcp-keepalive 60". */
  title: string;
  /** The knobs it sets, in words, for the report. */
  knobs?: Record<string, string>;
  /** How to start the server in this configuration. */
  start(context: StartContext): StartSpec;
  /** The protocol, where the configuration changes it (e.g. a client keepalive). */
  protocol?: TargetProtocol;
}

/** A server under test. */
export interface TargetDefinition {
  /** Stable id, e.g. `nginx` or `ref-hardened`. */
  id: string;
  title: string;
  /** How to tell that the server is installed, and the Debian package providing it. */
  install?: { binary: string; debianPackage: string };
  /** The port it listens on inside the lab. */
  port: number;
  start(context: StartContext): StartSpec;
  /** The server's version, for the report (e.g. by running `nginx -v`); "unknown" when absent. */
  version?: () => string | Promise<string>;
  protocol: TargetProtocol;
  /** The knobs that decide how it treats dead clients, in words, for the report. */
  knobs?: Record<string, string>;
  /** Named configurations of the same server (`<id>@<name>`). */
  variants?: Record<string, TargetVariant>;
}

const ID = /^[a-z0-9][a-z0-9.-]*$/;
const VARIANT = /^[a-z0-9][a-z0-9-]*$/;

/** An invalid target definition: names the field and what was expected. */
export class TargetDefinitionError extends TypeError {
  constructor(id: string, field: string, expected: string) {
    super(`Invalid target "${id}": field "${field}" must be ${expected}`);
    this.name = "TargetDefinitionError";
  }
}

/**
 * Declares a target and checks its shape.
 *
 * @example
 * ```ts
 * import { defineTarget } from "./define_target.ts";
 * const echo = defineTarget({
 *   id: "my-echo",
 *   title: "my echo server",
 *   port: 7000,
 *   start: ({ address, port }) => ({ argv: ["my-echo", "--listen", `${address}:${port}`] }),
 *   protocol: {
 *     request: { send: "PING\n", until: "PONG\n" },
 *     partialRequest: "PI",
 *     largeRequest: { send: "BIG 67108864\n", responseBytes: 67108864 },
 *   },
 * });
 * ```
 */
export function defineTarget(definition: TargetDefinition): TargetDefinition {
  const id = typeof definition?.id === "string" ? definition.id : "(no id)";
  const fail = (field: string, expected: string): never => {
    throw new TargetDefinitionError(id, field, expected);
  };
  if (typeof definition?.id !== "string" || !ID.test(definition.id)) {
    fail("id", "lowercase letters, digits, dots and dashes");
  }
  if (typeof definition.title !== "string" || !definition.title) {
    fail("title", "a non-empty string");
  }
  if (!Number.isInteger(definition.port) || definition.port < 1 || definition.port > 65535) {
    fail("port", "an integer from 1 to 65535");
  }
  if (typeof definition.start !== "function") fail("start", "a function returning { argv }");
  const p = definition.protocol;
  if (
    p?.greeting !== undefined &&
    (typeof p.greeting?.send !== "string" || typeof p.greeting.until !== "string")
  ) {
    fail("protocol.greeting", "{ send: string, until: string }");
  }
  if (typeof p?.request?.send !== "string" || typeof p.request.until !== "string") {
    fail("protocol.request", "{ send: string, until: string }");
  }
  if (typeof p.partialRequest !== "string") fail("protocol.partialRequest", "a string");
  if (
    p.largeRequest !== undefined &&
    (typeof p.largeRequest?.send !== "string" || !(p.largeRequest.responseBytes > 0))
  ) {
    fail("protocol.largeRequest", "{ send: string, responseBytes: number > 0 }");
  }
  for (const [name, variant] of Object.entries(definition.variants ?? {})) {
    if (!VARIANT.test(name)) {
      fail(`variants.${name}`, "named with lowercase letters, digits and dashes");
    }
    if (typeof variant?.title !== "string" || typeof variant.start !== "function") {
      fail(`variants.${name}`, "{ title: string, start: function }");
    }
  }
  return definition;
}

/**
 * The target in one of its variants: id `<id>@<name>`, the variant's start and knobs.
 * A RangeError names the variants there are when `name` is not one of them.
 */
export function selectVariant(target: TargetDefinition, name: string): TargetDefinition {
  const variant = target.variants?.[name];
  if (!variant) {
    const known = Object.keys(target.variants ?? {});
    throw new RangeError(
      `Target "${target.id}" has no variant "${name}": ` +
        (known.length
          ? `its variants are ${known.map((k) => `"${k}"`).join(", ")}`
          : "it has none"),
    );
  }
  const { variants: _, ...rest } = target;
  return {
    ...rest,
    id: `${target.id}@${name}`,
    title: `${target.title} (${variant.title})`,
    knobs: { ...target.knobs, ...variant.knobs },
    start: variant.start,
    protocol: variant.protocol ?? target.protocol,
  };
}
