/**
 * A scenario's timeline as a Mermaid sequence diagram (GitHub renders Mermaid 11) that tells the
 * story in about 25 lines however long it is:
 *
 * - the set-up before the fault (handshake, request, response) folded into one note;
 * - the fault, the server's release (socket closed or freed, its FIN or RST) and the end of the
 *   record always shown;
 * - repeated events folded into one line with their count and time span, and a repeated
 *   exchange (a probe and its answer, a retransmission and the router's ICMP) into one line
 *   that says how many were answered;
 * - packets the router dropped drawn as arrows that end at the router with a cross, ICMP from
 *   the router to the server;
 * - a note where a long time passes, so 75 s do not look like 12 ms;
 * - when still too long, the middle of the least important stretch left out, with a note that
 *   says how many events of which kind.
 *
 * Every label goes through {@linkcode mermaidText}; the output depends only on the events.
 *
 * @module
 */

import type { TimelineEvent } from "../results/schema.ts";
import { timerCount } from "../results/vocabulary.ts";
import { formatMs } from "../time/duration.ts";
import { Markdown, mermaidText } from "./markdown_escape.ts";

/** Lines (messages and notes) a timeline stays within unless told otherwise. */
export const TIMELINE_MAX_LINES = 25;

/** A participant of the diagram. */
type Who = "C" | "R" | "S" | "B" | "H";

const WHO: Record<TimelineEvent["actor"], Who> = {
  client: "C",
  server: "S",
  router: "R",
  bystander: "B",
  harness: "H",
};

const PARTICIPANTS: readonly (readonly [Who, string])[] = [
  ["C", "Client"],
  ["R", "Router"],
  ["S", "Server"],
  ["B", "Other client"],
  ["H", "clientdown"],
];

/** Labels longer than this wrap (Mermaid's `wrap:`), so a diagram fits GitHub's column. */
const WRAP_AT = 50;
/** At most this many "time passes" notes: the longest gaps. */
const MAX_GAP_NOTES = 4;
/** A gap is marked when at least this long... */
const GAP_MIN_MS = 1000;
/** ...and at least this share of the whole story. */
const GAP_SHARE = 0.05;

/** An answer comes this soon after what it answers (a peer's kernel or the router, at once). */
const ANSWER_MS = 500;

/** Importance: what a long story loses first. */
const BULK = 1;
const PLAIN = 2;
const KEEP = 3;

/** One line of the diagram: a message (`to` set) or a note (over `from`, or `from` to `over`). */
interface Line {
  from: Who;
  to?: Who;
  over?: Who;
  /** An arrow that ends at the router with a cross: the router dropped it. */
  cross?: boolean;
  /** The words before the times, e.g. "keepalive probe ×9". */
  text: string;
  /** Words after the times, e.g. "all answered with ACK, window 0". */
  extra?: string;
  /** The first and last moment it stands for. */
  start: number;
  end: number;
  /** What it stands for, for a note that leaves it out: kind → count. */
  kinds: [string, number][];
  weight: number;
  /** A note that says what was left out (merges with its neighbours). */
  elided?: boolean;
  /** The events of a landmark line, which the same step right after joins. */
  same?: TimelineEvent[];
}

/** The numbers of a label, which a line of events of one kind shows as ranges. */
const NUMBER = /\d+(?:\.\d+)?/g;
/** A set-up after the fault ends where nothing happens for this long. */
const SETUP_GAP_MS = 3000;

function at(ms: number): string {
  return ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`;
}

function span(start: number, end: number): string {
  const a = at(start);
  const b = at(end);
  return a === b ? a : `${a} … ${b}`;
}

function isStep(e: TimelineEvent): boolean {
  return !e.to && (e.actor === "client" || e.actor === "router" || e.actor === "harness");
}

function isTimer(e: TimelineEvent): boolean {
  return e.kind === "timer";
}

/** The server letting go: its socket freed or closed, its exit, or a FIN or RST it sent. */
function isRelease(e: TimelineEvent): boolean {
  return e.actor === "server" && e.kind === (e.to ? "close" : "release");
}

/** A FIN or RST, sent for the first time or again. */
function isClose(e: TimelineEvent): boolean {
  return e.kind === "close" || e.kind === "close-retransmission";
}

/** Events that are the same kind of thing: numbers aside, and timers by their kind only. */
function keyOf(e: TimelineEvent): string {
  if (isTimer(e)) return `timer|${e.timer}`;
  return [e.actor, e.to ?? "", e.dropped ? "dropped" : "", e.what.replace(NUMBER, "#")].join("|");
}

/** The kind in words, for a list of what a note stands for. */
function kindName(e: TimelineEvent): string {
  if (isTimer(e)) return e.timer ?? e.what;
  return e.what.replace(/ \(.*\)$/, "");
}

/** "data ×40, RST ×3": kinds in order of first appearance, the most frequent `max` of them. */
function kindsText(kinds: readonly [string, number][], max = 4): string {
  const total = new Map<string, number>();
  for (const [name, n] of kinds) total.set(name, (total.get(name) ?? 0) + n);
  const all = [...total];
  const top = new Set(
    all.map((k, i) => [k, i] as const)
      .sort((a, b) => b[0][1] - a[0][1] || a[1] - b[1])
      .slice(0, max)
      .map(([[name]]) => name),
  );
  const words = all.filter(([name]) => top.has(name))
    .map(([name, n]) => {
      const words = name.replaceAll(", ", " ");
      return n > 1 ? `${words} ×${n}` : words;
    });
  return words.join(", ") + (all.length > max ? ", …" : "");
}

function kindsOf(events: readonly TimelineEvent[]): [string, number][] {
  const out = new Map<string, number>();
  for (const e of events) out.set(kindName(e), (out.get(kindName(e)) ?? 0) + 1);
  return [...out];
}

function weightOf(e: TimelineEvent): number {
  if (isRelease(e) || e.kind === "failed" || e.kind === "heal") return KEEP;
  if (isTimer(e) || e.actor === "bystander") return BULK;
  if (e.to && !e.dropped && (e.kind === "data" || e.kind === "bulk")) return BULK;
  return PLAIN;
}

/** Where an arrow of this event ends: the router, when the router dropped it. */
function target(e: TimelineEvent): Who | undefined {
  if (!e.to) return undefined;
  return e.dropped ? "R" : WHO[e.to];
}

/** The line of events of one kind: "retransmit timer ×3 (+1 s … +7 s), up to 3 …". */
function groupLine(events: readonly TimelineEvent[]): Line {
  const first = events[0] as TimelineEvent;
  const last = events.at(-1) as TimelineEvent;
  const count = events.length > 1 ? ` ×${events.length}` : "";
  let text: string;
  let extra: string | undefined;
  if (isTimer(first)) {
    text = `${first.timer}${count}`;
    let most = -1;
    for (const e of events) {
      if (e.count !== undefined && e.count > most) {
        most = e.count;
        const detail = timerCount(e.timer ?? "", e.count);
        extra = events.length > 1 ? `up to ${detail}` : detail;
      }
    }
  } else {
    const lastNumbers = last.what.match(NUMBER) ?? [];
    let i = 0;
    text = first.what.replace(NUMBER, (n) => {
      const m = lastNumbers[i++];
      return m !== undefined && m !== n ? `${n} … ${m}` : n;
    }) + count;
  }
  if (first.dropped) extra = extra ? `dropped by the router, ${extra}` : "dropped by the router";
  const to = target(first);
  // The bystander's and the harness's notes span client to server: two more columns would
  // make the diagram wider than GitHub's text column.
  const aside = !to && (first.actor === "bystander" || first.actor === "harness");
  if (first.actor === "bystander" && !to) text = `other client: ${text}`;
  return {
    from: aside ? "C" : WHO[first.actor],
    ...(aside ? { over: "S" as const } : {}),
    ...(to ? { to } : {}),
    ...(first.dropped ? { cross: true } : {}),
    text,
    ...(extra ? { extra } : {}),
    start: first.atMs,
    end: last.atMs,
    kinds: kindsOf(events),
    weight: Math.max(...events.map(weightOf)),
  };
}

/** The answers that came within {@linkcode ANSWER_MS} of an ask, before the next ask. */
function answeredBy(
  order: readonly TimelineEvent[],
  asks: readonly TimelineEvent[],
  answers: readonly TimelineEvent[],
): TimelineEvent[] {
  const isAsk = new Set(asks);
  const isAnswer = new Set(answers);
  const used: TimelineEvent[] = [];
  let open: TimelineEvent | undefined;
  for (const e of order) {
    if (isAsk.has(e)) open = e;
    else if (open && isAnswer.has(e) && e.atMs - open.atMs <= ANSWER_MS) {
      used.push(e);
      open = undefined;
    }
  }
  return used;
}

/** The lines of a stretch between landmarks: one per kind, a probe and its answers together. */
function stretchLines(events: readonly TimelineEvent[]): Line[] {
  const groups = new Map<string, TimelineEvent[]>();
  for (const e of events) {
    const key = keyOf(e);
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  // Pairs of kinds where one answers the other (a probe and its ACK, a retransmission and the
  // router's ICMP): the pairs with the most answers first, each kind in one pair at most.
  const all = [...groups.values()];
  const pairs: { asks: TimelineEvent[]; answers: TimelineEvent[]; by: TimelineEvent[] }[] = [];
  for (const asks of all) {
    const ask = asks[0] as TimelineEvent;
    if (!ask.to || asks.length < 2) continue;
    for (const answers of all) {
      const answer = answers[0] as TimelineEvent;
      if (answers === asks || !answer.to) continue;
      if (WHO[answer.actor] !== target(ask) || WHO[answer.to] !== WHO[ask.actor]) continue;
      const by = answeredBy(events, asks, answers);
      if (by.length >= Math.max(2, Math.ceil(asks.length / 2))) pairs.push({ asks, answers, by });
    }
  }
  pairs.sort((a, b) => b.by.length - a.by.length);
  const answered = new Map<TimelineEvent[], { by: TimelineEvent[]; with: string; who: Who }>();
  const paired = new Set<TimelineEvent[]>();
  for (const { asks, answers, by } of pairs) {
    if (paired.has(asks) || paired.has(answers)) continue;
    paired.add(asks).add(answers);
    const answer = answers[0] as TimelineEvent;
    answered.set(asks, { by, with: kindName(answer), who: WHO[answer.actor] });
    const rest = answers.filter((e) => !by.includes(e));
    answers.splice(0, answers.length, ...rest);
  }
  const lines: { line: Line; first: number }[] = [];
  for (const group of groups.values()) {
    if (group.length === 0) continue;
    const line = groupLine(group);
    const answers = answered.get(group);
    if (answers) {
      const n = answers.by.length;
      const how = n === group.length ? "all" : `${n} of ${group.length}`;
      const by = answers.who === "R" ? " by the router" : "";
      const words = `${how} answered${by} with ${answers.with}`;
      line.extra = line.extra ? `${line.extra}, ${words}` : words;
      line.kinds.push(...kindsOf(answers.by));
      line.end = Math.max(line.end, ...answers.by.map((e) => e.atMs));
      line.weight = Math.max(line.weight, ...answers.by.map(weightOf));
    }
    lines.push({ line, first: events.indexOf(group[0] as TimelineEvent) });
  }
  return lines.sort((a, b) => a.first - b.first).map((l) => l.line);
}

/** One note for the set-up: "before the fault (−184 ms … −8 ms): connection set up, …". */
function setupLine(events: readonly TimelineEvent[], beforeFault: boolean): Line {
  const steps: [string, number][] = [];
  const packets: TimelineEvent[] = [];
  const others: TimelineEvent[] = [];
  for (const e of events) {
    if (e.to) packets.push(e);
    else if (isStep(e)) {
      const name = e.what === "connect" ? "connection set up" : kindName(e);
      const known = steps.find(([n]) => n === name);
      if (known) known[1]++;
      else steps.push([name, 1]);
    } else if (e.kind !== "socket-open") others.push(e);
  }
  const parts: string[] = [];
  if (steps.length) parts.push(kindsText(steps, 5));
  if (packets.length) {
    const n = packets.length;
    parts.push(`${n} packet${n > 1 ? "s" : ""} (${kindsText(kindsOf(packets), 3)})`);
  }
  if (others.length) parts.push(kindsText(kindsOf(others), 2));
  const first = events[0] as TimelineEvent;
  const last = events.at(-1) as TimelineEvent;
  return {
    from: "C",
    over: "S",
    text: beforeFault ? "before the fault" : "set-up",
    extra: parts.join(", "),
    start: first.atMs,
    end: last.atMs,
    kinds: kindsOf(events),
    weight: PLAIN,
  };
}

/** The index of the fault step, if there is one. */
function faultIndex(events: readonly TimelineEvent[]): number {
  return events.findIndex((e) => e.kind === "fault");
}

/** The story as lines, before anything is left out. */
function storyLines(events: readonly TimelineEvent[]): Line[] {
  const fault = faultIndex(events);
  const lines: Line[] = [];
  let i = 0;
  if (fault >= 0) {
    const before = events.slice(0, fault);
    // A FIN or RST just before the fault step (the fault's own packet, or the server's
    // release) is part of the story, not of the set-up.
    const story = (e: TimelineEvent) => weightOf(e) === KEEP || (e.to !== undefined && isClose(e));
    const setup = before.filter((e) => !story(e));
    if (setup.length >= 3) {
      lines.push(setupLine(setup, true));
      lines.push(...stretchLines(before.filter(story)));
    } else lines.push(...before.map((e) => groupLine([e])));
    // The fault step says "fault: …" itself. It is drawn from zero, when the runner began it
    // (release times count from there), to the moment it took effect.
    const line = groupLine([events[fault] as TimelineEvent]);
    [line.start, line.end] = [Math.min(0, line.start), Math.max(0, line.end)];
    line.weight = KEEP;
    lines.push(line);
    i = fault + 1;
  }
  if (fault <= 0) {
    // No set-up before the fault (or no fault): the connection made at the start is folded.
    let j = i;
    while (
      j < events.length && isSetup(events[j] as TimelineEvent) &&
      (j === i ||
        (events[j] as TimelineEvent).atMs - (events[j - 1] as TimelineEvent).atMs <=
          SETUP_GAP_MS)
    ) j++;
    // Folded only when a story follows: a record that is all set-up shows as it is.
    if (j - i >= 3 && j < events.length) {
      lines.push(setupLine(events.slice(i, j), false));
      i = j;
    }
  }
  let stretch: TimelineEvent[] = [];
  const flush = () => {
    lines.push(...stretchLines(stretch));
    stretch = [];
  };
  for (; i < events.length; i++) {
    const e = events[i] as TimelineEvent;
    const landmark = isStep(e) || (e.actor === "server" && !e.to && !isTimer(e));
    if (!landmark) {
      stretch.push(e);
      continue;
    }
    flush();
    const previous = lines.at(-1);
    if (previous?.same && keyOf(previous.same[0] as TimelineEvent) === keyOf(e)) {
      // The same step again right after: one line with a count.
      previous.same.push(e);
      Object.assign(previous, groupLine(previous.same), { same: previous.same });
      continue;
    }
    const line = groupLine([e]);
    line.same = [e];
    lines.push(line);
  }
  flush();
  return lines;
}

function isSetup(e: TimelineEvent): boolean {
  if (e.to) return !e.dropped && (e.kind === "handshake" || e.kind === "data");
  return e.kind === "setup" || e.kind === "socket-open";
}

/** A note that stands for lines left out. */
function elisionLine(lines: readonly Line[]): Line {
  const kinds = lines.flatMap((l) => l.kinds);
  const n = kinds.reduce((sum, [, c]) => sum + c, 0);
  return {
    from: "C",
    over: "S",
    text: `… ${n} event${n > 1 ? "s" : ""} left out`,
    extra: kindsText(kinds),
    start: Math.min(...lines.map((l) => l.start)),
    end: Math.max(...lines.map((l) => l.end)),
    kinds,
    weight: BULK,
    elided: true,
  };
}

/** Leaves out lines until at most `max` remain (or nothing more may go). */
function elide(story: readonly Line[], max: number): Line[] {
  let lines = [...story];
  while (lines.length > max) {
    const excess = lines.length - max;
    let cut: [number, number] | undefined;
    for (const weight of [BULK, PLAIN]) {
      let best: [number, number] | undefined;
      let startOf = -1;
      for (let i = 0; i <= lines.length; i++) {
        const line = lines[i];
        if (line && line.weight <= weight) {
          if (startOf < 0) startOf = i;
          continue;
        }
        if (startOf >= 0 && i - startOf >= 2 && (!best || i - startOf > best[1] - best[0])) {
          best = [startOf, i];
        }
        startOf = -1;
      }
      if (best) {
        cut = best;
        break;
      }
    }
    if (!cut) {
      // No stretch of two: a single line next to a note of what was left out joins it.
      const i = lines.findIndex((l, i) =>
        l.weight < KEEP && !l.elided &&
        (lines[i - 1]?.elided || lines[i + 1]?.elided)
      );
      if (i < 0) break;
      const j = lines[i - 1]?.elided ? i - 1 : i;
      lines.splice(j, 2, elisionLine(lines.slice(j, j + 2)));
      continue;
    }
    const [a, b] = cut;
    const length = b - a;
    let from = a;
    let count = length;
    if (length >= 4) {
      // Keep the first and last line of the stretch; leave out the middle.
      count = Math.min(length - 2, excess + 1);
      from = a + 1 + Math.floor((length - 2 - count) / 2);
    }
    lines.splice(from, count, elisionLine(lines.slice(from, from + count)));
    lines = mergeElided(lines);
  }
  return lines;
}

function mergeElided(lines: readonly Line[]): Line[] {
  const out: Line[] = [];
  for (const line of lines) {
    const previous = out.at(-1);
    if (previous?.elided && line.elided) out[out.length - 1] = elisionLine([previous, line]);
    else out.push(line);
  }
  return out;
}

/** Notes where a long time passes between shown lines: index of the line after → the gap. */
function gaps(lines: readonly Line[], max = MAX_GAP_NOTES): Map<number, number> {
  if (lines.length === 0) return new Map();
  const first = Math.min(...lines.map((l) => l.start));
  const last = Math.max(...lines.map((l) => l.end));
  const threshold = Math.max(GAP_MIN_MS, GAP_SHARE * (last - first));
  const found: [number, number][] = [];
  let reached = (lines[0] as Line).end;
  for (const [i, line] of lines.entries()) {
    if (i > 0 && line.start - reached >= threshold) found.push([i, line.start - reached]);
    reached = Math.max(reached, line.end);
  }
  return new Map(
    found.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, max)
      .sort((a, b) => a[0] - b[0]),
  );
}

function render(line: Line): string {
  const times = span(line.start, line.end);
  const label = mermaidText(
    `${line.text} (${times})${line.extra ? `, ${line.extra}` : ""}`,
  ).toString();
  const words = label.length > WRAP_AT ? `wrap: ${label}` : label;
  if (line.to) return `  ${line.from}${line.cross ? "-x" : "->>"}${line.to}: ${words}`;
  return `  Note over ${line.from}${line.over ? `,${line.over}` : ""}: ${words}`;
}

function note(text: string): string {
  const label = mermaidText(text).toString();
  return `  Note over C,S: ${label.length > WRAP_AT ? `wrap: ${label}` : label}`;
}

/**
 * The timeline as a fenced Mermaid sequence diagram of at most `limit` lines (messages and
 * notes; a few more only when the fault, the release and the end alone need them).
 *
 * @example
 * ```ts
 * import { mermaidTimeline } from "./mermaid_timeline.ts";
 * mermaidTimeline([
 *   { atMs: 0, actor: "router", what: "fault: vanish" },
 *   { atMs: 75_000, actor: "server", to: "client", what: "FIN-ACK", dropped: true },
 * ]).toString().includes("S-xR: FIN-ACK (+75 s), dropped by the router"); // true
 * ```
 */
export function mermaidTimeline(
  events: readonly TimelineEvent[],
  limit: number = TIMELINE_MAX_LINES,
): Markdown {
  const sorted = events.map((e, i) => [e, i] as const)
    .sort((a, b) => a[0].atMs - b[0].atMs || a[1] - b[1])
    .map(([e]) => e);
  const story = storyLines(sorted);
  const endMs = sorted.at(-1)?.atMs;
  for (const line of story) if (line.end === endMs) line.weight = KEEP;
  let reserved = 0;
  let shown: Line[] = [];
  let marks = new Map<number, number>();
  let ending = false;
  for (let round = 0; round < MAX_GAP_NOTES + 3; round++) {
    shown = elide(story, Math.max(1, limit - reserved));
    marks = gaps(shown);
    // The last event is on a line of its own or ends a run; a note only if neither.
    ending = endMs !== undefined && !shown.some((l) => l.end === endMs);
    const needed = marks.size + (ending ? 1 : 0);
    if (needed <= reserved) break;
    reserved = needed;
  }
  // Lines that must stay (the fault, the release, the end) leave the gaps what room is left.
  const room = limit - shown.length - (ending ? 1 : 0);
  if (marks.size > room) marks = gaps(shown, Math.max(0, room));
  const who = new Set<Who>(["C", "S"]);
  for (const line of shown) {
    who.add(line.from);
    if (line.to) who.add(line.to);
    if (line.over) who.add(line.over);
  }
  const lines = ["```mermaid", "sequenceDiagram"];
  for (const [id, name] of PARTICIPANTS) {
    if (who.has(id)) {
      lines.push(`  participant ${id} as ${name}`);
    }
  }
  for (const [i, line] of shown.entries()) {
    const gap = marks.get(i);
    if (gap !== undefined) lines.push(note(`… ${formatMs(gap)} pass …`));
    lines.push(render(line));
  }
  const last = sorted.at(-1);
  if (ending && last) lines.push(note(`the record ends at ${at(last.atMs)}: ${kindName(last)}`));
  if (sorted.length === 0) lines.push("  Note over C,S: no events recorded");
  lines.push("```");
  // Every label went through mermaidText; the rest is this function's own syntax.
  return Markdown.unsafe(lines.join("\n"));
}
