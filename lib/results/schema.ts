/**
 * The results contract (`clientdown/results@2`): what a run writes to `reports/<target>.json`
 * and the only thing renderers read. Fields may be added; none is ever renamed.
 *
 * This file is the one source of the contract: the zod schemas below validate every results
 * file, `results.schema.json` (the JSON Schema other tools read) is generated from them
 * (`deno task schema`; a test checks it is current), and each TypeScript type is the type of
 * what its schema parses. Each field is declared once, in its schema, and documented there
 * with `.describe()` (which the JSON Schema carries). To add a field: add it to its schema
 * (with `.exactOptional()` unless every file ever written has it), then run `deno task schema`.
 *
 * The types are written `ReturnType<typeof xSchema.parse>` rather than `z.infer<…>`, and the
 * schemas are exported from mod.ts but left out of its docs (`@ignore`): `deno doc --lint`
 * rejects a public type that names zod's own types or a schema mod.ts does not export.
 *
 * This module is the leaf of the import graph: it imports nothing from the rest of clientdown.
 *
 * @module
 */

import { z } from "zod";

/** The schema id written in every results file. */
export const RESULTS_SCHEMA = "clientdown/results@2";

/** The longest time a results file may state: 30 days, in milliseconds. */
export const MAX_MS = 30 * 24 * 3600 * 1000;
/**
 * The longest time a prediction may state: 60 days (the kernel's longest keepalive,
 * TCP_KEEPIDLE + TCP_KEEPCNT × TCP_KEEPINTVL at their maxima, is about 48.5 days).
 */
const MAX_PREDICTED_MS = 60 * 24 * 3600 * 1000;
/** The largest count a results file may state (fds, probes, KiB, clients...). */
const MAX_COUNT = 2 ** 31 - 1;
/** The longest text a results file may hold in one string (notes, tails of server output). */
const MAX_TEXT = 1 << 20;

/** Requirement levels, as in RFC 2119. */
export const LEVELS = ["MUST", "SHOULD", "MAY"] as const;
/** A requirement level. */
export type Level = typeof LEVELS[number];

/** Where in the connection's life the client goes down. */
export const PHASES = [
  "handshake",
  "idle",
  "mid-request",
  "after-request",
  "mid-response",
] as const;
/** A phase. */
export type Phase = typeof PHASES[number];

/** Verdicts, from best to worst for sorting and colouring. */
export const VERDICTS = [
  "pass",
  "info",
  "skip",
  "interrupted",
  "warn",
  "inconclusive",
  "fail",
  "error",
] as const;
/**
 * `pass`; `fail` a MUST broken; `warn` a SHOULD broken; `info` a MAY (measured only);
 * `skip` not applicable or unsupported; `interrupted` the run was stopped (never a server
 * failure); `inconclusive` the deadline ended before the server acted and no prediction of
 * the kernel alone proves a pass; `error` the harness itself failed.
 */
export type Verdict = typeof VERDICTS[number];

/** Every way a server can let go of a connection (closed: the lead may add values). */
export const RELEASE_HOWS = [
  "server-fin",
  "server-rst",
  "keepalive-timeout",
  "retransmission-timeout",
  "zero-window-timeout",
  "reset-by-peer",
  "freed-silently",
  "never",
] as const;
/** How the server let go of the connection. */
export type ReleaseHow = typeof RELEASE_HOWS[number];

/** Who did something on a timeline. */
export const ACTORS = ["client", "server", "router", "bystander", "harness"] as const;

/**
 * What a timeline event is, for the renderers: steps (`setup` makes the connection, `fault`
 * takes the client down, `heal` ends an outage, `failed`, any other `step`), packets
 * (`handshake`: SYN or SYN-ACK; `data`; `bulk`: data or ACKs retransmitted or at a zero window;
 * `close`: a FIN or RST, `close-retransmission` one sent again; `icmp`; any `other-packet`),
 * the server's socket (`socket-open`: established or in the accept queue, `socket`: another
 * state, `timer`: the kernel's timer on it, `release`: freed or closed, or the server's exit),
 * and the other client's `no-answer`.
 */
export const TIMELINE_KINDS = [
  "setup",
  "fault",
  "heal",
  "failed",
  "step",
  "handshake",
  "data",
  "bulk",
  "close",
  "close-retransmission",
  "icmp",
  "other-packet",
  "socket-open",
  "socket",
  "timer",
  "release",
  "no-answer",
  "reconnect",
] as const;
/** What a timeline event is. */
export type TimelineKind = typeof TIMELINE_KINDS[number];

// ---------------------------------------------------------------------------------------------
// Building blocks

/** A duration in milliseconds: 0 ≤ ms ≤ 30 days. */
const ms = () => z.number().min(0).max(MAX_MS);
/** A moment relative to the fault, in milliseconds (negative: before it). */
const relMs = () => z.number().min(-MAX_MS).max(MAX_MS);
/** A count: an integer 0 ≤ n < 2³¹. */
const count = () => z.int().min(0).max(MAX_COUNT);
/** A text (may be empty). */
const text = () => z.string().max(MAX_TEXT);
/** A label (a title, a requirement, a timeline event...), never empty. */
const label = () => z.string().min(1).max(10_000);

const targetIdPattern = /^[a-z0-9][a-z0-9.-]*(@[a-z0-9][a-z0-9-]*)?$/;
const scenarioIdPattern = /^[a-z][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/;

// ---------------------------------------------------------------------------------------------
// The schemas, and the type of what each parses. A schema is exported (and re-exported by mod.ts,
// out of its docs) only so that its type can name it.

/**
 * Schema of {@linkcode SocketOptions}.
 *
 * @ignore
 */
export const socketOptionsSchema = z.strictObject({
  keepalive: z.boolean().describe("SO_KEEPALIVE"),
  keepIdleS: count().describe(
    "TCP_KEEPIDLE, seconds (the namespace's tcp_keepalive_time unless set)",
  ),
  keepIntvlS: count().describe(
    "TCP_KEEPINTVL, seconds (the namespace's tcp_keepalive_intvl unless set)",
  ),
  keepCnt: count().describe("TCP_KEEPCNT (the namespace's tcp_keepalive_probes unless set)"),
  userTimeoutMs: count().describe("TCP_USER_TIMEOUT, milliseconds; 0 when unset"),
  rtoMaxMs: count().describe(
    "The ceiling of the retransmission timeout, milliseconds (TCP_RTO_MAX_MS where the kernel has it)",
  ),
}).describe("The timeout options of one socket, as the kernel applies them");
/** The timeout options of one socket, as the kernel applies them (what the observer reads). */
export type SocketOptions = ReturnType<typeof socketOptionsSchema.parse>;

/**
 * Schema of {@linkcode SocketOptionsRead}.
 *
 * @ignore
 */
export const socketOptionsReadSchema = socketOptionsSchema.extend({
  rtoMaxMs: socketOptionsSchema.shape.rtoMaxMs.exactOptional(),
}).describe("The server socket's own options, read through pidfd_getfd + getsockopt");
/** The server socket's own options as a results file holds them (`rtoMaxMs` may be absent). */
export type SocketOptionsRead = ReturnType<typeof socketOptionsReadSchema.parse>;

/**
 * Schema of {@linkcode TcpSysctls}.
 *
 * @ignore
 */
export const tcpSysctlsSchema = z.strictObject({
  keepaliveTimeS: count().describe("net.ipv4.tcp_keepalive_time, seconds"),
  keepaliveIntvlS: count().describe("net.ipv4.tcp_keepalive_intvl, seconds"),
  keepaliveProbes: count().describe("net.ipv4.tcp_keepalive_probes"),
  retries2: count().describe("net.ipv4.tcp_retries2"),
  orphanRetries: count().describe("net.ipv4.tcp_orphan_retries"),
}).describe("The TCP sysctls of a network namespace that decide when a silent peer is given up on");
/** The TCP sysctls of a network namespace that decide when a silent peer is given up on. */
export type TcpSysctls = ReturnType<typeof tcpSysctlsSchema.parse>;

/**
 * Schema of {@linkcode Prediction}.
 *
 * @ignore
 */
export const predictionSchema = z.strictObject({
  predicted: z.literal(true).describe("Always true: a prediction is labelled as one"),
  releaseMs: z.number().min(0).max(MAX_PREDICTED_MS).nullable().describe(
    'Milliseconds after the reference moment ("from"), or null for "never"',
  ),
  from: label().describe(
    'What the time counts from, e.g. "last-traffic", "oldest-unacked", "first-retransmission", ' +
      '"first-zero-window-probe", "first-keepalive-probe"',
  ),
  mechanism: label().describe(
    'The kernel mechanism and why, e.g. "keepalive: idle 2 s + 3 probes × 1 s …"',
  ),
  how: z.enum(RELEASE_HOWS).describe(
    'How the kernel alone would end the connection ("never" when it would not)',
  ),
  reason: text().exactOptional().describe(
    'Why, the mechanism\'s name left out: "idle 2 s + 3 probes × 1 s …" (the part of "mechanism" ' +
      "after its name)",
  ),
  neverBecause: label().exactOptional().describe(
    'For a "never" prediction: why no kernel timer ends the connection, in a few words ' +
      '(e.g. "SO_KEEPALIVE is off")',
  ),
  toleranceMs: z.strictObject({ early: ms(), late: ms() }).exactOptional().describe(
    "How much earlier or later than predicted the kernel may act (timer-wheel lateness)",
  ),
  atMs: z.number().min(-MAX_MS).max(MAX_PREDICTED_MS).exactOptional().describe(
    "The predicted release, in milliseconds after the fault",
  ),
  watchedMs: ms().exactOptional().describe(
    "How long was watched without a release, milliseconds after the fault",
  ),
  situation: text().exactOptional().describe(
    'The situation the kernel model was applied to, e.g. "peer silent"',
  ),
}).describe("What the kernel alone will do, computed from socket options and sysctls");
/** What the kernel alone will do, computed from socket options and sysctls: a prediction. */
export type Prediction = ReturnType<typeof predictionSchema.parse>;

/**
 * Schema of {@linkcode TimelineEvent}.
 *
 * @ignore
 */
export const timelineEventSchema = z.strictObject({
  atMs: relMs().describe("Milliseconds since the fault (negative: before it)"),
  actor: z.enum(ACTORS).describe("Who did it"),
  kind: z.enum(TIMELINE_KINDS).describe("What the event is, for the renderers"),
  timer: label().exactOptional().describe(
    'For a "timer" event: the kernel timer\'s name, e.g. "retransmit timer"',
  ),
  count: count().exactOptional().describe(
    'For a "timer" event: the retransmissions or unanswered probes it shows',
  ),
  what: text().describe('What happened, e.g. "RST", "keepalive probe", "abort", "socket freed"'),
  to: z.enum(["client", "server"]).exactOptional().describe(
    "Packet-level events show as arrows between actors",
  ),
  dropped: z.literal(true).exactOptional().describe(
    "The router dropped this packet (the fault in place): it never reached the client",
  ),
}).describe("One moment of a scenario, for the timeline");
/** One moment of a scenario, for the timeline. */
export type TimelineEvent = ReturnType<typeof timelineEventSchema.parse>;

/**
 * Schema of {@linkcode ExpectationActual}.
 *
 * @ignore
 */
export const expectationActualSchema = z.strictObject({
  ms: z.number().min(0).max(MAX_PREDICTED_MS).exactOptional().describe(
    "The figure judged against the budget (release after the fault, slowest answer), ms",
  ),
  how: z.enum(RELEASE_HOWS).exactOptional().describe("How the connection was released"),
  survived: z.boolean().exactOptional().describe(
    "Whether the connection was found usable after the outage",
  ),
  error: text().exactOptional().describe(
    'What the client saw when it was not: an errno name ("ECONNRESET"), "EOF", or why',
  ),
  unanswered: count().exactOptional().describe("Exchanges left unanswered"),
  of: count().exactOptional().describe("Exchanges tried"),
});
/** What an expectation found, as data. */
export type ExpectationActual = ReturnType<typeof expectationActualSchema.parse>;

/**
 * Schema of {@linkcode ExpectationResult}.
 *
 * @ignore
 */
export const expectationResultSchema = z.strictObject({
  kind: label().describe(
    'The expectation kind, as the registry names it: "released", "others-served", ...',
  ),
  expectation: label().describe('What was expected, in words: "released within 10 min"'),
  level: z.enum(LEVELS).describe(
    "The level it is judged at: the scenario's, or its own (a server that dies breaks a MUST in every scenario)",
  ),
  budgetMs: ms().exactOptional().describe(
    "The expectation's budget (released within, survives for, each answer within), ms",
  ),
  verdict: z.enum(VERDICTS),
  actual: expectationActualSchema.exactOptional().describe(
    "What was found, as data (absent where nothing was)",
  ),
  measured: text().describe("What was found, in words (predicted, and then it says so)"),
  predicted: z.boolean().exactOptional().describe("The finding rests on a prediction"),
}).describe("The outcome of one expectation");
/** The outcome of one expectation. */
export type ExpectationResult = ReturnType<typeof expectationResultSchema.parse>;

/**
 * Schema of {@linkcode HarnessFigures}.
 *
 * @ignore
 */
export const harnessFiguresSchema = z.strictObject({
  labUpMs: ms().describe("From asking for the lab to its being ready to carry traffic"),
  targetReadyMs: ms().describe(
    "From the lab's being up to the target's listening, the client's being ready and the capture's listening (all three start at once)",
  ),
  teardownMs: ms().describe(
    "From the end of the scenario to its evidence being read and the lab's being gone (tcpdump may still be closing its capture socket, which takes the kernel an RCU grace period)",
  ),
  latenessMs: ms().exactOptional().describe(
    "The runner's largest event-loop lateness while the scenario measured (its tolerance is 100 ms)",
  ),
  attempts: z.int().min(1).max(MAX_COUNT).exactOptional().describe(
    "Runs it took: a run measured while the runner was late beyond tolerance is run again",
  ),
});
/** Harness overhead of one scenario and the runner's lateness while it measured. */
export type HarnessFigures = ReturnType<typeof harnessFiguresSchema.parse>;

/**
 * Schema of {@linkcode Measurements}.
 *
 * @ignore
 */
export const measurementsSchema = z.strictObject({
  releaseMs: ms().exactOptional().describe("From the fault to the server releasing the connection"),
  releaseSinceLastTrafficMs: ms().exactOptional().describe(
    "From the last traffic on the connection to the release",
  ),
  releasedHow: z.enum(RELEASE_HOWS).exactOptional().describe("How the server released"),
  releasedBeforeFault: z.literal(true).exactOptional().describe(
    "The server had closed the connection before the fault (it closes after each response): releaseMs is then 0",
  ),
  othersMaxLatencyMs: ms().exactOptional().describe(
    "Largest latency seen by the healthy bystander client during the fault",
  ),
  othersTimeouts: count().exactOptional().describe(
    "Requests of the bystander client left unanswered during the fault",
  ),
  fdsBefore: count().exactOptional().describe("fds of the server's process tree before the fault"),
  fdsAfter: count().exactOptional().describe(
    "fds of the server's process tree when the runner stopped watching",
  ),
  clientConnectionsBefore: count().exactOptional().describe(
    "TCP connections the server's processes held to client hosts (the bystander left out) just before the fault",
  ),
  clientConnectionsAfter: count().exactOptional().describe(
    "The same when the runner stopped watching",
  ),
  rssKbBefore: count().exactOptional().describe(
    "RSS of the server's process tree before the fault, KiB",
  ),
  rssKbAfter: count().exactOptional().describe(
    "RSS of the server's process tree when the runner stopped watching, KiB",
  ),
  keepaliveProbes: count().exactOptional().describe("Keepalive probes the server sent"),
  retransmissions: count().exactOptional().describe("Retransmissions the server sent"),
  zeroWindowProbes: count().exactOptional().describe("Zero-window probes the server sent"),
  serverExit: z.strictObject({
    code: z.int().min(0).max(255),
    signal: z.string().regex(/^SIG[A-Z0-9+-]+$/).nullable(),
    atMs: relMs().exactOptional().describe(
      "When it ended, milliseconds after the fault (negative: before it)",
    ),
  }).exactOptional().describe("Exit of the server process, when it ended during the scenario"),
  churnOpened: count().exactOptional().describe("Connections a churn step opened"),
  churnRefused: count().exactOptional().describe(
    "Connections of a churn step the server refused or dropped at once",
  ),
  leak: z.strictObject({
    kernelEndedMs: ms(),
    how: z.enum(RELEASE_HOWS),
    fd: count().nullable(),
  }).exactOptional().describe(
    "The kernel ended the socket (RST, timeout) kernelEndedMs after the fault while the server " +
      "still holds its fd: a leak, not a release",
  ),
  harness: harnessFiguresSchema.exactOptional().describe(
    "Harness overhead (lab up, target ready, teardown) and the runner's lateness",
  ),
  faultMoment: z.strictObject({
    lagMs: ms(),
    source: z.enum(["netlink", "capture", "runner"]),
    toleranceMs: ms(),
  }).exactOptional().describe(
    "The fault's moment (time zero of every figure) is when it took effect, taken from `source` " +
      "within toleranceMs; the runner asked for it lagMs earlier",
  ),
}).describe("Figures measured for a scenario; all times in milliseconds");
/** Figures measured for a scenario. All times in milliseconds. */
export type Measurements = ReturnType<typeof measurementsSchema.parse>;

/**
 * Schema of {@linkcode ScenarioResult}.
 *
 * @ignore
 */
export const scenarioResultSchema = z.strictObject({
  id: z.string().regex(scenarioIdPattern).describe("Stable id <family>/<case>"),
  title: label(),
  requirement: label().describe("The requirement, in one sentence"),
  level: z.enum(LEVELS).describe("The requirement's level"),
  refs: z.array(text()).describe("RFC sections and man pages the requirement rests on"),
  phase: z.enum(PHASES).describe("Where in the connection's life the client went down"),
  verdict: z.enum(VERDICTS).describe("The scenario's verdict: the worst of its expectations'"),
  measurements: measurementsSchema,
  expectations: z.array(expectationResultSchema),
  socketOptions: socketOptionsReadSchema.exactOptional(),
  sysctls: tcpSysctlsSchema.exactOptional(),
  prediction: predictionSchema.exactOptional(),
  evidence: z.array(timelineEventSchema).describe("The timeline"),
  notes: text().describe("Why skipped / inconclusive / error, and anything a reader should know"),
  harnessNotes: text().exactOptional().describe(
    "Trouble of the harness itself (no packet capture, a helper that did not end cleanly): never part of the server's verdict",
  ),
  recommendation: text().exactOptional().describe(
    "What to change in the server, where it failed",
  ),
  durationMs: ms().describe("Wall time of the scenario"),
  server: z.strictObject({
    stderrTail: text().exactOptional(),
    log: text().exactOptional(),
  }).exactOptional().describe(
    "The server's own words, as evidence (untrusted text): its stderr tail and its log tail",
  ),
}).describe("The result of one scenario");
/** The result of one scenario. */
export type ScenarioResult = ReturnType<typeof scenarioResultSchema.parse>;

/**
 * The zod schema of a results file: `resultsSchema.safeParse(value)` checks a parsed JSON value
 * against the contract. Internal (zod's types are no part of the public API): use
 * `validateResults`, which names each problem in words.
 *
 * @ignore
 */
export const resultsSchema = z.strictObject({
  schema: z.literal(RESULTS_SCHEMA),
  target: z.strictObject({
    id: z.string().regex(targetIdPattern).describe("<id> or <id>@<variant>"),
    title: z.string().max(10_000).exactOptional(),
    version: z.string().max(10_000).describe("Its version, as the target reports it"),
    knobs: z.record(label(), text()).exactOptional().describe(
      "The knobs that decide how it treats dead clients, in words (knob → setting)",
    ),
  }).describe("The server certified"),
  environment: z.strictObject({
    kernel: label().describe("The kernel's release"),
    kernelHz: z.int().min(1).max(100_000).exactOptional().describe(
      "CONFIG_HZ of the kernel, which sets how late its TCP timers fire and so the tolerance of predictions; absent when not known (predictions then assume the coarsest timer wheel Linux allows)",
    ),
    rootless: z.literal(true).exactOptional().describe(
      "Set when the labs were made without root, in a user namespace of the run's own: only the servers that run as the user's own uid could be certified",
    ),
    startedAt: z.iso.datetime({ offset: true }),
    durationMs: ms().describe("Wall time of the run"),
    deadlineMs: ms().describe("The runner's deadline per scenario"),
    concurrency: z.int().min(1).max(MAX_COUNT).describe("Scenarios run at once"),
    peakLatenessMs: ms().exactOptional().describe(
      "The runner's largest event-loop lateness during the run (scenarios measured while it was over 100 ms were run again)",
    ),
    clientdown: label().describe("clientdown's version"),
    interrupted: z.strictObject({
      signal: text(),
      finished: count(),
      planned: count(),
    }).exactOptional().describe(
      "Set when the run was interrupted: the signal, scenarios finished and planned",
    ),
    suite: z.string().regex(/^sha256:[0-9a-f]{64}$/).exactOptional().describe(
      "Fingerprint of the scenarios run (sha256 of their canonical JSON): results of different suites never merge",
    ),
    shard: z.strictObject({
      index: z.int().min(1).max(MAX_COUNT),
      count: z.int().min(1).max(MAX_COUNT),
      targets: z.array(z.string().regex(targetIdPattern)),
      scenarios: z.array(z.string().regex(scenarioIdPattern)),
    }).exactOptional().describe(
      "Set by certify --shard K/N: this shard (index K of count N) and the whole run it is part of (every target and scenario id), so merge can tell a missing or duplicate pair",
    ),
  }).describe("Where and how the run went"),
  scenarios: z.array(scenarioResultSchema).describe("One result per scenario run"),
}).describe("A clientdown results file");
/** A results file. */
export type Results = ReturnType<typeof resultsSchema.parse>;

/** The JSON Schema of a results file, generated from {@linkcode resultsSchema}. */
export function resultsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(resultsSchema, { target: "draft-2020-12" }),
    title: "clientdown results (clientdown/results@2)",
  };
}
