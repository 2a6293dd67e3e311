/**
 * The one shape every expectation has, h2spec style: how it is written in a suite file, how
 * its parameters are checked, how long the runner must watch for it, how it judges what was
 * observed (expected against actual), and what to advise when it breaks. The runner's wait,
 * evaluation and recommendations consult the registry (registry.ts) and nothing else.
 *
 * @module
 */

import { type ConnectionRelease, connectionRelease } from "../../observe/connection_release.ts";
import type { Observations } from "../../observe/observations.ts";
import type { PredictionOutcome } from "../predict_release.ts";
import type { SocketEvent } from "../../observe/socket_watch.ts";
import type { OwnClose } from "../unprompted_close.ts";
import { packetsOf, releaseOnTheWire } from "../release_how.ts";
import type { ExpectationActual, Level, Measurements } from "../../results/schema.ts";
import { formatMs } from "../../time/duration.ts";

/** What every expectation may carry besides its own parameters. */
export interface ExpectationBase {
  kind: string;
  /** Replaces the scenario's level for this expectation. */
  level?: Level;
}

/** A problem with an expectation's parameters: the field and what it must be. */
export interface ParameterProblem {
  field: string;
  expected: string;
}

/** What the runner can see while it waits, for a verifier to say it has what it needs. */
export interface LiveView {
  /** Monotonic ms of the fault, when there was one. */
  faultAt: number | undefined;
  /** The socket watch's events so far. */
  socket: readonly SocketEvent[];
  /** The client connections the server holds now, and at the fault (sampleServer). */
  clientConnections: { now: number; atFault: number | undefined };
  /**
   * The resident memory (KiB) of the server's processes that were there at the fault, now and
   * at the fault; undefined without a sample at the fault.
   */
  memory: { nowKiB: number; atFaultKiB: number } | undefined;
}

/** What evaluation derived once from the observations, shared by every verifier. */
export interface Facts {
  obs: Observations;
  /**
   * Whether and when the server let go of the connection, as countedRelease counts it (a
   * release at or after the server's death is not one).
   */
  release: ConnectionRelease;
  /** Monotonic ms until which the runner watched, and since the fault (0 without one). */
  watchedUntil: number;
  watchedMs: number;
  /** The kernel's own outcome for an unreleased connection, where a model applies. */
  prediction: PredictionOutcome | undefined;
  measurements: Measurements;
  /** The scenario's phase: where in the connection's life the client went down. */
  phase: string;
  /**
   * The knobs the target lists, in words (knob → setting): the server's own timeouts, which
   * may end a connection before the kernel's predicted release.
   */
  knobs: Readonly<Record<string, string>>;
  /**
   * The server's close of an idle connection that nothing seen since the fault prompted
   * (lib/evaluate/unprompted_close.ts): its own policy, not the fault, ended the connection.
   */
  unpromptedClose?: OwnClose;
  /**
   * Behind a NAT: the server's first close of the idle connection, when the NAT's mapping still
   * lived then (so the NAT is not why the connection was lost).
   */
  closedWhileMapped?: OwnClose;
}

/** A verifier's finding: whether the expectation was met, and what was seen. */
export interface Judgement {
  /**
   * `true` met, `false` broken, "inconclusive" when nothing observed or predicted decides, or
   * "not-applicable" when the server made the question moot (the scenario is then skipped).
   */
  met: boolean | "inconclusive" | "not-applicable";
  /** The actual outcome, in words (predicted, and then it says so). */
  actual: string;
  /** What was found, as data: the figure judged against the budget, the mechanism, counts. */
  found?: ExpectationActual;
  /** Whether the finding rests on a prediction. */
  predicted?: boolean;
  /** Why, in a sentence or two, when the finding makes the scenario not applicable. */
  why?: string;
}

/** One expectation kind. `E` is its data as a suite file makes it. */
export interface Verifier<E extends ExpectationBase, Args extends unknown[]> {
  readonly kind: E["kind"];
  /** Makes the expectation's data: the builder a suite file calls. */
  build(...args: Args): E;
  /** Checks data that came from a suite file. */
  check(e: E): ParameterProblem | undefined;
  /** The expected outcome, in words: "released within 10 min". */
  describe(e: E): string;
  /** Its budget in ms (released within, survives for, each answer within), if it has one. */
  budgetMs(e: E): number | undefined;
  /**
   * How long after the fault it needs the runner to watch at most (the runner caps the wait
   * after the steps at the deadline); Infinity: until the deadline.
   */
  watchMs(e: E): number;
  /** Whether it already has what it needs, so the runner may stop waiting for it. */
  settled(e: E, live: LiveView): boolean;
  /** Whether it needs the healthy second client probing during the fault. */
  readonly needsBystander: boolean;
  /** Judges what was observed. */
  judge(e: E, facts: Facts): Judgement;
  /** What to change in the server when it broke, in one sentence. */
  advice(e: E, facts: Facts): string;
}

/**
 * Declares a verifier; `check`, `budgetMs` (none), `settled` and `needsBystander` have plain
 * defaults.
 */
export function defineVerifier<E extends ExpectationBase, Args extends unknown[]>(
  verifier:
    & Omit<Verifier<E, Args>, "check" | "budgetMs" | "settled" | "needsBystander">
    & Partial<Pick<Verifier<E, Args>, "check" | "budgetMs" | "settled" | "needsBystander">>,
): Verifier<E, Args> {
  return {
    check: () => undefined,
    budgetMs: () => undefined,
    settled: () => false,
    needsBystander: false,
    ...verifier,
  };
}

/**
 * The release as the verdicts count it (lib/observe/connection_release.ts over the socket
 * watch's events), except one at or after the server's death: that is the death's doing (its
 * sockets end with it), not a release. Of a server that did not die, a release its own FIN or
 * RST marks is on the kernel's clock (releaseOnTheWire). Of one that died, the watch's moment
 * stands: the kernel sends a dying process's FINs before the runner sees it exit, so a stamp
 * could not tell the death's FIN from a close of the server's own.
 */
export function countedRelease(obs: Observations): ConnectionRelease {
  const release = connectionRelease(obs.connection.socket);
  const diedAt = obs.server.exit?.at;
  if (diedAt === undefined) {
    return releaseOnTheWire(
      release,
      obs.run.faultAt,
      obs.connection.socket,
      packetsOf(obs.capture.packets ?? [], obs.connection.clientPort),
    );
  }
  if (release.releasedAt === undefined || release.releasedAt < diedAt) return release;
  return { everHeld: release.everHeld };
}

/** How a dead server reads in a finding: "server killed by SIGPIPE, 120 ms after the fault". */
export function serverDeath(facts: Facts): string | undefined {
  const exit = facts.obs.server.exit;
  if (!exit) return undefined;
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const faultAt = facts.obs.run.faultAt;
  const when = faultAt === undefined
    ? ""
    : exit.at >= faultAt
    ? `, ${formatMs(exit.at - faultAt)} after the fault`
    : `, ${formatMs(faultAt - exit.at)} before the fault`;
  return `server ${how}${when}`;
}
