/**
 * Target files: how to install, start and talk to one server. A target file default-exports
 * `defineTarget({...})`; users write one for their own server and pass its path to `--target`.
 *
 * @module
 */

import { SERVER } from "../lab/address_plan.ts";
import { nearIds } from "../text/near_ids.ts";

/**
 * Bytes of a protocol: text (sent as UTF-8) or bytes, for a binary protocol whose bytes
 * ≥ 0x80 must go out as themselves (an LDAP bind's tag 0x80): `hex("30 0c 02 01 01")`.
 */
export type Payload = string | Uint8Array;

/**
 * Bytes written as hex digits, spaces allowed: a binary protocol's payload.
 *
 * @example
 * ```ts
 * import { hex } from "./define_target.ts";
 * hex("80 00 ff"); // Uint8Array [0x80, 0x00, 0xff]
 * ```
 */
export function hex(digits: string): Uint8Array {
  const clean = digits.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) {
    throw new SyntaxError(`Invalid hex bytes "${digits}": expected pairs of hex digits`);
  }
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** Whether `value` is a non-empty payload (text or bytes). */
function isPayload(value: unknown): value is Payload {
  return (typeof value === "string" || value instanceof Uint8Array) && value.length > 0;
}

/** One request and how to recognise the end of its response. */
export interface Exchange {
  /** Bytes the client sends. */
  send: Payload;
  /**
   * The last bytes of the response: the read ends once they arrived. Anything the server sends
   * after them stays unread, and unread bytes turn a later close into a reset.
   */
  until: Payload;
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
  /**
   * A small request with a small response. The other client of a scenario (the bystander)
   * also makes it, every 500 ms on one connection kept for the whole scenario.
   */
  request: Exchange;
  /** The first bytes of a request that the server must wait for the rest of. */
  partialRequest: Payload;
  /**
   * A request whose response is far larger than any socket buffer. A protocol without one
   * leaves it out: the scenarios that need it are skipped as not applicable.
   */
  largeRequest?: { send: Payload; responseBytes: number };
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
  /** The program and its arguments, run in the server host in the foreground. */
  argv: string[];
  /** Environment variables added to the program's. */
  env?: Record<string, string>;
  /** Files to write (path relative to the lab directory → content) before starting. */
  files?: Record<string, string>;
  /**
   * Commands run as root in the server host before it starts, in order, each to exit 0, in
   * the lab directory: making a data directory and giving it to the user a daemon switches
   * to (`["chown", "-R", "mysql", "data"]`), initialising a database. No `sh -c … exec`
   * wrapper is needed around the server for that.
   */
  setup?: string[][];
  /**
   * Commands run in the server host once it listens, in order, each to exit 0: loading the
   * data the exchanges need (e.g. a large value for the large request).
   */
  prepare?: string[][];
  /** The signal that ends the server quickly (default SIGTERM), e.g. SIGINT for PostgreSQL. */
  stopSignal?: Deno.Signal;
  /**
   * How long the server may take to listen, in milliseconds (default 10 000): a JVM server
   * starting beside others on a busy machine needs longer.
   */
  readyTimeoutMs?: number;
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
  /** What it is, for the report. */
  title: string;
  /**
   * How to tell that the server is installed, and the Debian package providing it: `binary` is
   * a program on PATH or the absolute path of a file the package installs (a Python package
   * without a program: its `__init__.py`). `alsoNeeds` names what else must be installed for
   * it to run (another server it fronts, say), each told the same way.
   */
  install?: {
    binary: string;
    debianPackage: string;
    alsoNeeds?: readonly { binary: string; debianPackage: string }[];
  };
  /** The port it listens on inside the lab. */
  port: number;
  /**
   * The user the server switches to once started as root (as its Debian service runs it).
   * Such a target needs root: a rootless lab's user namespace maps the user's own uid only.
   */
  runsAs?: string;
  /** How to start it in a lab's server host. */
  start(context: StartContext): StartSpec;
  /** The server's version, for the report (e.g. by running `nginx -v`); "unknown" when absent. */
  version?: () => string | Promise<string>;
  /** The exchanges of its protocol the scenarios need. */
  protocol: TargetProtocol;
  /** The knobs that decide how it treats dead clients, in words, for the report. */
  knobs?: Record<string, string>;
  /** Named configurations of the same server (`<id>@<name>`). */
  variants?: Record<string, TargetVariant>;
}

const ID = /^[a-z0-9][a-z0-9.-]*$/;
const VARIANT = /^[a-z0-9][a-z0-9-]*$/;

/** Whether `name` is a valid variant name (what may follow the `@` of `<id>@<name>`). */
export function isVariantName(name: string): boolean {
  return VARIANT.test(name);
}

/**
 * Signals a server can be stopped with: Linux's, without those that cannot end a process
 * (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT).
 */
export const STOP_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGHUP",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGFPE",
  "SIGILL",
  "SIGIO",
  "SIGPIPE",
  "SIGPOLL",
  "SIGPROF",
  "SIGPWR",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSYS",
  "SIGTRAP",
  "SIGURG",
  "SIGVTALRM",
  "SIGXCPU",
  "SIGXFSZ",
];

/** An invalid target definition: names the field and what was expected. */
export class TargetDefinitionError extends TypeError {
  /**
   * `field` is the path of the field, e.g. `start().argv`; `expected` completes `verb`
   * ("must be", or "is" for a field that should not be there).
   */
  constructor(id: string, field: string, expected: string, verb = "must be") {
    super(`Invalid target "${id}": field "${field}" ${verb} ${expected}`);
    this.name = "TargetDefinitionError";
  }
}

type Fail = (field: string, expected: string) => never;

function shown(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (Array.isArray(value)) return value.length ? `an array of ${value.length}` : "[]";
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  return typeof value === "object" ? "an object" : `"${String(value)}"`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/**
 * Refuses a key that is not one of `known` (a typo such as `readyTimeoutMS` or `untill` would
 * otherwise pass silently, its setting lost), naming the known key nearest to it.
 */
function checkKeys(
  id: string,
  value: Record<string, unknown>,
  known: readonly string[],
  field: string,
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const path = field ? `${field}.${key}` : key;
    throw new TargetDefinitionError(
      id,
      path,
      `unknown: did you mean "${nearIds(key, known, 1)[0]}"? (known here: ${known.join(", ")})`,
      "is",
    );
  }
}

const TARGET_KEYS = [
  "id",
  "title",
  "install",
  "port",
  "start",
  "version",
  "protocol",
  "knobs",
  "variants",
  "runsAs",
];
const INSTALL_KEYS = ["binary", "debianPackage", "alsoNeeds"];
const PACKAGE_KEYS = ["binary", "debianPackage"];
const PROTOCOL_KEYS = [
  "greeting",
  "oneRequestPerConnection",
  "request",
  "partialRequest",
  "largeRequest",
];
const EXCHANGE_KEYS = ["send", "until"];
const LARGE_KEYS = ["send", "responseBytes"];
const VARIANT_KEYS = ["title", "knobs", "start", "protocol"];
const START_KEYS = [
  "argv",
  "env",
  "files",
  "setup",
  "prepare",
  "stopSignal",
  "readyTimeoutMs",
];

function checkExchange(value: unknown, field: string, fail: Fail, id: string): void {
  if (isRecord(value)) checkKeys(id, value, EXCHANGE_KEYS, field);
  if (!isRecord(value)) fail(field, `{ send, until } (got ${shown(value)})`);
  if (!isPayload(value.send)) {
    fail(`${field}.send`, `a non-empty string or Uint8Array (got ${shown(value.send)})`);
  }
  if (!isPayload(value.until)) {
    fail(
      `${field}.until`,
      `a non-empty string or Uint8Array: the last bytes of the response (got ${
        shown(value.until)
      })`,
    );
  }
}

/** Checks a protocol: the base target's (`protocol`) or a variant's. */
function checkProtocol(p: unknown, field: string, fail: Fail, id: string): void {
  if (!isRecord(p)) fail(field, `an object with request and partialRequest (got ${shown(p)})`);
  checkKeys(id, p, PROTOCOL_KEYS, field);
  if (p.greeting !== undefined) checkExchange(p.greeting, `${field}.greeting`, fail, id);
  if (p.oneRequestPerConnection !== undefined && typeof p.oneRequestPerConnection !== "boolean") {
    fail(
      `${field}.oneRequestPerConnection`,
      `true or false (got ${shown(p.oneRequestPerConnection)})`,
    );
  }
  checkExchange(p.request, `${field}.request`, fail, id);
  if (typeof p.partialRequest !== "string" && !(p.partialRequest instanceof Uint8Array)) {
    fail(`${field}.partialRequest`, `a string or Uint8Array (got ${shown(p.partialRequest)})`);
  }
  if (p.largeRequest !== undefined) {
    const large = p.largeRequest;
    if (isRecord(large)) checkKeys(id, large, LARGE_KEYS, `${field}.largeRequest`);
    if (!isRecord(large) || !isPayload(large.send)) {
      fail(
        `${field}.largeRequest`,
        `{ send: string or Uint8Array, responseBytes: number } (got ${shown(large)})`,
      );
    }
    if (!Number.isSafeInteger(large.responseBytes) || (large.responseBytes as number) < 1) {
      fail(
        `${field}.largeRequest.responseBytes`,
        `a positive whole number of bytes (got ${shown(large.responseBytes)})`,
      );
    }
  }
}

function checkKnobs(knobs: unknown, field: string, fail: Fail): void {
  if (knobs === undefined) return;
  if (!isRecord(knobs)) fail(field, `an object of strings (got ${shown(knobs)})`);
  for (const [name, value] of Object.entries(knobs)) {
    if (typeof value !== "string") fail(`${field}.${name}`, `a string (got ${shown(value)})`);
  }
}

/**
 * Checks what a target's `start()` returned (`field` names it, e.g. `start()` or
 * `variants.tuned.start()`): a non-empty argv of strings, files whose paths stay inside the lab
 * directory, commands to prepare, a known stop signal. Throws TargetDefinitionError.
 */
export function checkStartSpec(id: string, spec: unknown, field = "start()"): StartSpec {
  const fail: Fail = (f, expected) => {
    throw new TargetDefinitionError(id, f, expected);
  };
  if (!isRecord(spec)) fail(field, `{ argv: string[] } (got ${shown(spec)})`);
  checkKeys(id, spec, START_KEYS, field);
  const { argv, env, files, setup, prepare, stopSignal, readyTimeoutMs } = spec;
  if (!Array.isArray(argv) || argv.length === 0) {
    fail(`${field}.argv`, `a non-empty array: the program and its arguments (got ${shown(argv)})`);
  }
  argv.forEach((arg, i) => {
    if (typeof arg !== "string" || (i === 0 && !arg)) {
      fail(`${field}.argv[${i}]`, `${i === 0 ? "a non-empty " : "a "}string (got ${shown(arg)})`);
    }
  });
  if (env !== undefined) {
    if (!isRecord(env)) fail(`${field}.env`, `an object of strings (got ${shown(env)})`);
    for (const [name, value] of Object.entries(env)) {
      if (!name || name.includes("=")) fail(`${field}.env`, `names without "=" (got "${name}")`);
      if (typeof value !== "string") fail(`${field}.env.${name}`, `a string (got ${shown(value)})`);
    }
  }
  if (files !== undefined) {
    if (!isRecord(files)) fail(`${field}.files`, `an object: path → content (got ${shown(files)})`);
    for (const [path, content] of Object.entries(files)) {
      if (!insideLabDir(path)) {
        fail(
          `${field}.files`,
          `paths relative to the lab directory, staying inside it (got "${path}")`,
        );
      }
      if (typeof content !== "string") {
        fail(`${field}.files["${path}"]`, `a string (got ${shown(content)})`);
      }
    }
  }
  for (const [name, commands] of [["setup", setup], ["prepare", prepare]] as const) {
    if (commands === undefined) continue;
    if (!Array.isArray(commands)) {
      fail(`${field}.${name}`, `an array of commands (got ${shown(commands)})`);
    }
    commands.forEach((command, i) => {
      if (
        !Array.isArray(command) || command.length === 0 || !nonEmpty(command[0]) ||
        !command.every((a) => typeof a === "string")
      ) {
        fail(`${field}.${name}[${i}]`, `a non-empty array of strings (got ${shown(command)})`);
      }
    });
  }
  if (stopSignal !== undefined && !STOP_SIGNALS.includes(stopSignal as Deno.Signal)) {
    fail(
      `${field}.stopSignal`,
      `a signal that ends a process, such as "SIGTERM", "SIGINT" or "SIGQUIT" (got ${
        shown(stopSignal)
      })`,
    );
  }
  if (
    readyTimeoutMs !== undefined &&
    !(typeof readyTimeoutMs === "number" && Number.isInteger(readyTimeoutMs) && readyTimeoutMs > 0)
  ) {
    fail(
      `${field}.readyTimeoutMs`,
      `a whole number of milliseconds > 0 (got ${shown(readyTimeoutMs)})`,
    );
  }
  return spec as unknown as StartSpec;
}

/** Whether a `files` path is relative and stays inside the lab directory. */
export function insideLabDir(path: string): boolean {
  if (!path || path.startsWith("/") || path.includes("\0") || path.endsWith("/")) return false;
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return parts.length > 0 && !parts.includes("..");
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
  const fail: Fail = (field, expected) => {
    throw new TargetDefinitionError(id, field, expected);
  };
  if (typeof definition?.id !== "string" || !ID.test(definition.id)) {
    fail("id", "lowercase letters, digits, dots and dashes");
  }
  checkKeys(id, definition as unknown as Record<string, unknown>, TARGET_KEYS, "");
  if (typeof definition.title !== "string" || !definition.title) {
    fail("title", "a non-empty string");
  }
  if (!Number.isInteger(definition.port) || definition.port < 1 || definition.port > 65535) {
    fail("port", "an integer from 1 to 65535");
  }
  const install: unknown = definition.install;
  const isPackage = (p: unknown) => isRecord(p) && nonEmpty(p.binary) && nonEmpty(p.debianPackage);
  if (install !== undefined && !isPackage(install)) {
    fail("install", `{ binary: string, debianPackage: string } (got ${shown(install)})`);
  }
  if (isRecord(install)) checkKeys(id, install, INSTALL_KEYS, "install");
  const alsoNeeds = isRecord(install) ? install.alsoNeeds : undefined;
  if (alsoNeeds !== undefined && !(Array.isArray(alsoNeeds) && alsoNeeds.every(isPackage))) {
    fail(
      "install.alsoNeeds",
      `an array of { binary: string, debianPackage: string } (got ${shown(alsoNeeds)})`,
    );
  }
  if (definition.runsAs !== undefined && !nonEmpty(definition.runsAs)) {
    fail("runsAs", `a user name (got ${shown(definition.runsAs)})`);
  }
  if (Array.isArray(alsoNeeds)) {
    alsoNeeds.forEach((p, i) => checkKeys(id, p, PACKAGE_KEYS, `install.alsoNeeds[${i}]`));
  }
  if (typeof definition.start !== "function") fail("start", "a function returning { argv }");
  if (definition.version !== undefined && typeof definition.version !== "function") {
    fail("version", `a function returning the version (got ${shown(definition.version)})`);
  }
  checkProtocol(definition.protocol, "protocol", fail, id);
  checkKnobs(definition.knobs, "knobs", fail);
  const variants: unknown = definition.variants;
  if (variants !== undefined && !isRecord(variants)) {
    fail("variants", `an object: name → variant (got ${shown(variants)})`);
  }
  for (const [name, variant] of Object.entries(definition.variants ?? {})) {
    const field = `variants.${name}`;
    if (!VARIANT.test(name)) fail(field, "named with lowercase letters, digits and dashes");
    if (!isRecord(variant) || !nonEmpty(variant.title) || typeof variant.start !== "function") {
      fail(field, "{ title: string, start: function }");
    }
    checkKeys(id, variant, VARIANT_KEYS, field);
    if (variant.protocol !== undefined) {
      checkProtocol(variant.protocol, `${field}.protocol`, fail, id);
    }
    checkKnobs(variant.knobs, `${field}.knobs`, fail);
  }
  return definition;
}

/**
 * Calls `start()` of the target and of each of its variants with a context like a lab's and
 * checks what they return, so a mistake is reported before any lab exists. `dir` stands for
 * the lab directory (nothing is written there). Throws TargetDefinitionError, naming
 * `start()` when it throws itself.
 */
export function checkStarts(target: TargetDefinition, dir: string): void {
  const starts: [string, (context: StartContext) => StartSpec][] = [
    ["start()", target.start],
    ...Object.entries(target.variants ?? {}).map(([name, v]): [
      string,
      (context: StartContext) => StartSpec,
    ] => [`variants.${name}.start()`, v.start]),
  ];
  for (const [field, start] of starts) {
    for (const address of [SERVER.v4, SERVER.v6]) {
      let spec: unknown;
      try {
        spec = start({ address, port: target.port, dir });
      } catch (error) {
        const said = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        throw new TargetDefinitionError(
          target.id,
          field.slice(0, -2),
          `a function that returns { argv } for a lab (it threw ${said.split("\n")[0]})`,
        );
      }
      checkStartSpec(target.id, spec, field);
    }
  }
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
