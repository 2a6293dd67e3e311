/**
 * The one escaping layer of the Markdown renderers. Every string that comes from a target, a
 * server or a results file (titles, versions, notes, measured text, stderr, knobs, timeline
 * text...) reaches the Markdown only through this module.
 *
 * Markdown the renderers build is a {@linkcode Markdown} value, never a bare string: the `md`
 * template tag keeps the literal parts (the renderer's own source) and escapes every
 * interpolated string, so a string can only reach the output escaped. Each context has its own
 * rule: inline text and table cells ({@linkcode text}), the start of a block
 * ({@linkcode blockText}), code spans ({@linkcode code}), fenced blocks ({@linkcode codeBlock}),
 * HTML ({@linkcode htmlText}), link targets ({@linkcode linkTarget}) and Mermaid labels
 * ({@linkcode mermaidText}).
 *
 * @module
 */

/** Markdown that is safe to place as it is: made only by this module's functions. */
export class Markdown {
  readonly #source: string;
  private constructor(source: string) {
    this.#source = source;
  }
  /** Wraps text that is Markdown already. Internal: renderers use {@linkcode md}. */
  static unsafe(source: string): Markdown {
    return new Markdown(source);
  }
  /** The Markdown source. */
  toString(): string {
    return this.#source;
  }
}

/** What may be interpolated into {@linkcode md}: Markdown as is, strings and numbers escaped. */
export type MdValue = Markdown | string | number;

/** Line breaks, tabs and other control characters (C0, DEL, C1, line/paragraph separators). */
// deno-lint-ignore no-control-regex
const CONTROL = /\r\n|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/**
 * Text on one line: line breaks, tabs and other control characters become spaces (as every
 * inline context renders them).
 *
 * @example
 * ```ts
 * import { oneLine } from "./markdown_escape.ts";
 * oneLine("a\nb"); // "a b"
 * ```
 */
export function oneLine(value: string): string {
  return value.replace(CONTROL, " ");
}

/** ASCII punctuation that can start Markdown syntax anywhere in a line. */
const INLINE_SYNTAX = /[\\`*~[\]<>|#&$]/g;
/**
 * `_` that could close emphasis: one not followed by a letter or digit. With every possible
 * closer escaped no `_` emphasis can form, and `_exit(2)` or `so_keepalive` stay as written.
 */
const LOOSE_UNDERSCORE = /_(?![\p{L}\p{N}])/gu;

/**
 * Plain text as one line of inline Markdown, safe in a paragraph, a list item, a heading, a
 * blockquote or a table cell: line breaks become spaces and every character that could start
 * syntax (code, emphasis, links, HTML, entities, table pipes, headings, math) is
 * backslash-escaped. Ordinary words (`so_keepalive`, "RFC 9293 §3.8.4") are unchanged.
 *
 * @example
 * ```ts
 * import { text } from "./markdown_escape.ts";
 * text("a | b\n# c").toString(); // "a \\| b \\# c"
 * ```
 */
export function text(value: string): Markdown {
  return Markdown.unsafe(
    value.replace(CONTROL, " ").replace(INLINE_SYNTAX, "\\$&").replace(LOOSE_UNDERSCORE, "\\_"),
  );
}

/**
 * Plain text that starts a block (a paragraph, or a blockquote's content): {@linkcode text}
 * and, in addition, no leading indentation and no list, heading-underline or ordered-list
 * marker at its start.
 *
 * @example
 * ```ts
 * import { blockText } from "./markdown_escape.ts";
 * blockText("- not a list").toString(); // "\\- not a list"
 * ```
 */
export function blockText(value: string): Markdown {
  const line = text(value).toString().replace(/^ +/, "");
  return Markdown.unsafe(
    line.replace(/^[-+=]/, "\\$&").replace(/^(\d{1,9})([.)])/, "$1\\$2"),
  );
}

/**
 * Plain text as an inline code span: a backtick fence longer than any run of backticks in it.
 * Not for table cells (a pipe in a code span would split the cell): use {@linkcode text} there.
 *
 * @example
 * ```ts
 * import { code } from "./markdown_escape.ts";
 * code("a`b").toString(); // "``a`b``"
 * ```
 */
export function code(value: string): Markdown {
  const flat = value.replace(CONTROL, " ");
  const fence = "`".repeat(longestRun(flat, "`") + 1);
  const pad = /^[` ]|[` ]$/.test(flat) ? " " : "";
  return Markdown.unsafe(`${fence}${pad}${flat}${pad}${fence}`);
}

/**
 * Plain text, several lines, as a fenced code block: the fence is longer than any run of
 * backticks in the text, so nothing in it can close the block, and nothing in it is parsed
 * (HTML such as `</details>` stays text).
 *
 * @example
 * ```ts
 * import { codeBlock } from "./markdown_escape.ts";
 * codeBlock("```\nhi").toString(); // "````text\n```\nhi\n````"
 * ```
 */
export function codeBlock(value: string, info = "text"): Markdown {
  const body = value.replace(/\r\n?/g, "\n")
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/\n+$/, "");
  const fence = "`".repeat(Math.max(3, longestRun(body, "`") + 1));
  return Markdown.unsafe(`${fence}${info.replace(/[^\w-]/g, "")}\n${body}\n${fence}`);
}

/**
 * Plain text inside raw HTML (e.g. a `<summary>`): `&`, `<`, `>` and quotes as entities.
 *
 * @example
 * ```ts
 * import { htmlText } from "./markdown_escape.ts";
 * htmlText("</details>").toString(); // "&lt;/details&gt;"
 * ```
 */
export function htmlText(value: string): Markdown {
  const entity: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
  };
  return Markdown.unsafe(value.replace(CONTROL, " ").replace(/[&<>"']/g, (c) => entity[c]!));
}

/**
 * A link target that stays a relative link: percent-encoded (no spaces, parentheses, brackets
 * or angle brackets), and never a scheme such as `javascript:` (such a target is made a
 * relative path).
 *
 * @example
 * ```ts
 * import { linkTarget } from "./markdown_escape.ts";
 * linkTarget("nginx@so-keepalive.md").toString(); // "nginx@so-keepalive.md"
 * linkTarget("javascript:alert(1)").toString(); // "./javascript:alert%281%29"
 * ```
 */
export function linkTarget(value: string): Markdown {
  const encoded = encodeURI(value.replace(CONTROL, ""))
    .replace(/[()[\]<>'"`\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(encoded) || encoded.startsWith("//");
  return Markdown.unsafe(absolute ? `./${encoded}` : encoded);
}

/**
 * A link: its text escaped (unless it is Markdown already), its target through
 * {@linkcode linkTarget}.
 *
 * @example
 * ```ts
 * import { link } from "./markdown_escape.ts";
 * link("nginx", "nginx.md").toString(); // "[nginx](nginx.md)"
 * ```
 */
export function link(label: MdValue, target: string): Markdown {
  return md`[${label}](${linkTarget(target)})`;
}

/** The longest Mermaid label kept whole: Mermaid refuses diagrams past 50 000 characters. */
const MERMAID_LABEL_MAX = 200;

/** The longest start of `text` within `max` characters that ends with a whole word. */
function wordsWithin(text: string, max: number): string {
  const head = text.slice(0, max);
  if (text[max] === " ") return head;
  const space = head.lastIndexOf(" ");
  return (space > 0 ? head.slice(0, space) : head).replace(/[\s,;:]+$/, "");
}

/**
 * Plain text as a Mermaid sequence-diagram label (message or note text): no character that
 * ends a statement or starts a comment (`;`, `#`, line breaks become spaces), `%` (directives)
 * and angle brackets as Mermaid entity codes, long labels cut after a whole word.
 *
 * @example
 * ```ts
 * import { mermaidText } from "./markdown_escape.ts";
 * mermaidText("a; b # <c>").toString(); // "a b #60;c#62;"
 * ```
 */
export function mermaidText(value: string): Markdown {
  const flat = value.replace(CONTROL, " ").replace(/[;#]/g, " ").replace(/\s+/g, " ").trim();
  const cut = flat.length > MERMAID_LABEL_MAX
    ? `${wordsWithin(flat, MERMAID_LABEL_MAX - 2)} …`
    : flat;
  return Markdown.unsafe(
    cut.replace(/[%<>]/g, (c) => `#${c.charCodeAt(0)};`),
  );
}

/**
 * Markdown from a template: the literal parts are kept (they are the renderer's own source),
 * Markdown values are placed as they are, strings are escaped with {@linkcode text} and numbers
 * written out.
 *
 * @example
 * ```ts
 * import { md } from "./markdown_escape.ts";
 * md`**Title** ${"a*b"}`.toString(); // "**Title** a\\*b"
 * ```
 */
export function md(literals: TemplateStringsArray, ...values: MdValue[]): Markdown {
  let out = literals[0] ?? "";
  values.forEach((value, i) => {
    out += piece(value) + (literals[i + 1] ?? "");
  });
  return Markdown.unsafe(out);
}

/**
 * Markdown pieces joined by a separator (itself Markdown or escaped text).
 *
 * @example
 * ```ts
 * import { joinMd, md } from "./markdown_escape.ts";
 * joinMd([md`a`, "b|c"], "; ").toString(); // "a; b\\|c"
 * ```
 */
export function joinMd(values: readonly MdValue[], separator: MdValue): Markdown {
  return Markdown.unsafe(values.map(piece).join(piece(separator)));
}

/**
 * Lines of Markdown joined by line breaks: the document or a section. Strings are escaped as
 * the start of a block, so a plain string is always one paragraph line.
 *
 * @example
 * ```ts
 * import { lines, md } from "./markdown_escape.ts";
 * lines([md`# Title`, "", "# not a heading"]).toString(); // "# Title\n\n\\# not a heading"
 * ```
 */
export function lines(values: readonly MdValue[]): Markdown {
  return Markdown.unsafe(
    values.map((v) => typeof v === "string" ? blockText(v).toString() : piece(v)).join("\n"),
  );
}

function piece(value: MdValue): string {
  if (value instanceof Markdown) return value.toString();
  if (typeof value === "number") return String(value);
  return text(value).toString();
}

function longestRun(value: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of value) {
    run = c === char ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}
