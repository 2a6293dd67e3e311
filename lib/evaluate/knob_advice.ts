/**
 * Advice an operator can act on: a recommendation speaks of socket options (TCP_USER_TIMEOUT,
 * SO_KEEPALIVE) that a server's programmer sets; when the target lists the server's own
 * settings for the same thing (nginx `send_timeout`, redis `tcp-keepalive`), the
 * recommendation names them too, with their value in the run.
 *
 * @module
 */

/** Which of a server's settings bound what, by the phase the client went down in. */
const FOR_PHASE: Record<string, RegExp> = {
  "mid-response": /send|write(?!s$)/i,
  "mid-request": /header|body|request|read|login|grace|handshake|auth/i,
  "handshake": /header|request|read|login|grace|handshake|auth|connect/i,
  "idle": /idle|keep-?alive|keepidle|timeout|ping|heartbeat/i,
};

/**
 * Socket options are the programmer's, not a setting of the server's own; a name with spaces
 * describes behaviour ("send timeout" of a reference server), it is no setting one can turn.
 */
const NOT_A_SETTING = /^(SO|TCP)_[A-Z_]+$|\s/;

/** At most this many settings are named: the likeliest, in the target's order. */
const NAMED = 2;

/**
 * The target's own settings that bound what went wrong in `phase` (at most two), from its
 * `knobs` (name → value in words).
 *
 * @example
 * ```ts
 * import { ownKnobs } from "./knob_advice.ts";
 * ownKnobs({ send_timeout: "60s", so_keepalive: "off" }, "mid-response"); // ["send_timeout"]
 * ```
 */
export function ownKnobs(knobs: Readonly<Record<string, string>>, phase: string): string[] {
  const relevant = FOR_PHASE[phase] ?? FOR_PHASE.idle!;
  const excluded = phase === "idle" ? FOR_PHASE["mid-response"]! : undefined;
  return Object.keys(knobs)
    .filter((name) => !NOT_A_SETTING.test(name) && relevant.test(name))
    .filter((name) => !excluded?.test(name))
    .slice(0, NAMED);
}

/**
 * `advice` followed by the target's own settings for it, when it lists some: "… For nginx:
 * `send_timeout` (now 60s …)". Unchanged when the target lists none.
 */
export function withOwnKnobs(
  advice: string,
  target: { id: string; knobs?: Readonly<Record<string, string>> },
  phase: string,
): string {
  const knobs = target.knobs ?? {};
  const names = ownKnobs(knobs, phase);
  if (!names.length) return advice;
  const named = names.map((name) => `${name} (now ${knobs[name]})`).join(" or ");
  return `${advice} For ${target.id}, the setting that does it: ${named}.`;
}
