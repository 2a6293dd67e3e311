/**
 * The results contract (`clientdown/results@1`): what a run writes to `reports/<target>.json`
 * and the only thing renderers read. Fields may be added; none is ever renamed.
 *
 * @module
 */

/** The schema id written in every results file. */
export const RESULTS_SCHEMA = "clientdown/results@1";

/** Requirement levels, as in RFC 2119. */
export const LEVELS = ["MUST", "SHOULD", "MAY"] as const;
/** A requirement level. */
export type Level = typeof LEVELS[number];

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
 * failure); `inconclusive` the deadline ended before the server acted and nothing predicts
 * the outcome; `error` the harness itself failed.
 */
export type Verdict = typeof VERDICTS[number];

/** How the server let go of the connection. */
export type ReleaseHow =
  | "server-fin"
  | "server-rst"
  | "keepalive-timeout"
  | "retransmission-timeout"
  | "zero-window-timeout"
  | "reset-by-peer"
  | "freed-silently"
  | "never";

/** Every way of release, as the schema lists them. */
export const RELEASE_HOWS: readonly ReleaseHow[] = [
  "server-fin",
  "server-rst",
  "keepalive-timeout",
  "retransmission-timeout",
  "zero-window-timeout",
  "reset-by-peer",
  "freed-silently",
  "never",
];

/** The server socket's own options, read through pidfd_getfd + getsockopt. */
export interface SocketOptionsRead {
  keepalive: boolean;
  keepIdleS: number;
  keepIntvlS: number;
  keepCnt: number;
  userTimeoutMs: number;
  /** The ceiling of the retransmission timeout (TCP_RTO_MAX_MS where the kernel has it). */
  rtoMaxMs?: number;
}

/** The timeout options of one socket, as the kernel applies them (what the observer reads). */
export interface SocketOptions {
  /** SO_KEEPALIVE. */
  keepalive: boolean;
  /** TCP_KEEPIDLE, seconds (the namespace's tcp_keepalive_time unless set). */
  keepIdleS: number;
  /** TCP_KEEPINTVL, seconds (the namespace's tcp_keepalive_intvl unless set). */
  keepIntvlS: number;
  /** TCP_KEEPCNT (the namespace's tcp_keepalive_probes unless set). */
  keepCnt: number;
  /** TCP_USER_TIMEOUT, milliseconds; 0 when unset. */
  userTimeoutMs: number;
  /** The ceiling of the retransmission timeout, milliseconds (TCP_RTO_MAX_MS). */
  rtoMaxMs: number;
}

/** The TCP sysctls of a network namespace that decide when a silent peer is given up on. */
export interface TcpSysctls {
  keepaliveTimeS: number;
  keepaliveIntvlS: number;
  keepaliveProbes: number;
  retries2: number;
  orphanRetries: number;
}

/** What the kernel alone will do, computed from socket options and sysctls: a prediction. */
export interface Prediction {
  predicted: true;
  /** Milliseconds after the reference moment (`from`), or null for "never". */
  releaseMs: number | null;
  /**
   * What the time counts from, e.g. "last-traffic", "oldest-unacked",
   * "first-retransmission", "first-zero-window-probe", "first-keepalive-probe".
   */
  from: string;
  mechanism: string;
  /** How much earlier or later than predicted the kernel may act (timer-wheel lateness), ms. */
  toleranceMs?: { early: number; late: number };
  /** The predicted release, in milliseconds after the fault. */
  atMs?: number;
  /** How long was watched without a release, ms after the fault. */
  watchedMs?: number;
  /** The situation the kernel model was applied to, e.g. "peer silent". */
  situation?: string;
}

/** One moment of a scenario, for the timeline. */
export interface TimelineEvent {
  /** Milliseconds since the fault (negative: before it). */
  atMs: number;
  actor: "client" | "server" | "router" | "bystander" | "harness";
  /** What happened, e.g. "RST", "keepalive probe", "abort", "socket freed". */
  what: string;
  /** Packet-level events show as arrows between actors. */
  to?: "client" | "server";
}

/** The outcome of one expectation. */
export interface ExpectationResult {
  /** e.g. "released within 10 min". */
  expectation: string;
  verdict: Verdict;
  /** What was measured (or predicted, and then it says so). */
  measured: string;
  predicted?: boolean;
}

/** Figures measured for a scenario. All times in milliseconds. */
export interface Measurements {
  /** From the fault to the server releasing the connection. */
  releaseMs?: number;
  /** From the last traffic on the connection to the release. */
  releaseSinceLastTrafficMs?: number;
  releasedHow?: ReleaseHow;
  /** Largest latency seen by the healthy bystander client during the fault. */
  othersMaxLatencyMs?: number;
  othersTimeouts?: number;
  fdsBefore?: number;
  fdsAfter?: number;
  rssKbBefore?: number;
  rssKbAfter?: number;
  keepaliveProbes?: number;
  retransmissions?: number;
  zeroWindowProbes?: number;
  /** Exit of the server process, when it ended during the scenario. */
  serverExit?: { code: number; signal: string | null };
  /** Connections a churn step opened, and those the server refused or dropped at once. */
  churnOpened?: number;
  churnRefused?: number;
  /**
   * The kernel ended the socket (RST, timeout) `kernelEndedMs` after the fault while the
   * server still holds its fd `fd`: a leak, not a release.
   */
  leak?: { kernelEndedMs: number; how: ReleaseHow; fd: number | null };
  /** Harness overhead: lab up, target ready, teardown. */
  harness?: { labUpMs: number; targetReadyMs: number; teardownMs: number };
}

/** The result of one scenario. */
export interface ScenarioResult {
  id: string;
  title: string;
  requirement: string;
  level: Level;
  refs: string[];
  phase: string;
  verdict: Verdict;
  measurements: Measurements;
  expectations: ExpectationResult[];
  socketOptions?: SocketOptionsRead;
  sysctls?: TcpSysctls;
  prediction?: Prediction;
  evidence: TimelineEvent[];
  /** Why skipped / inconclusive / error, and anything a reader should know. */
  notes: string;
  /** What to change in the server, where it failed. */
  recommendation?: string;
  /** Wall time of the scenario. */
  durationMs: number;
  /** The server's own words, as evidence (untrusted text): its stderr tail and log tail. */
  server?: { stderrTail?: string; log?: string };
}

/** A results file. */
export interface Results {
  schema: typeof RESULTS_SCHEMA;
  target: {
    id: string;
    title?: string;
    version: string;
    /** The knobs that decide how it treats dead clients, in words (knob → setting). */
    knobs?: Record<string, string>;
  };
  environment: {
    kernel: string;
    startedAt: string;
    durationMs: number;
    deadlineMs: number;
    concurrency: number;
    clientdown: string;
    /** Set when the run was interrupted: the signal, scenarios finished and planned. */
    interrupted?: { signal: string; finished: number; planned: number };
  };
  scenarios: ScenarioResult[];
}
