// @ts-types="npm:@types/markdown-it@14.2.0"
import MarkdownIt from "markdown-it";
import mermaid from "mermaid";
import assert from "node:assert/strict";
import type { Results } from "../results/schema.ts";
import { validateResults } from "../results/validate_results.ts";
import { renderIndex } from "./index_report.ts";
import {
  blockText,
  code,
  codeBlock,
  htmlText,
  linkTarget,
  mermaidText,
  oneLine,
  text,
} from "./markdown_escape.ts";
import { renderTargetReport } from "./target_report.ts";
import { SAMPLE } from "./testdata/sample_results.ts";

/** Strings a target, a server or a results file might hold, each trying to break out. */
const HOSTILE = [
  "line one\nline two\n\n# injected heading\n",
  "```\n</details>\n```",
  "~~~ tilde fence",
  "<script>alert(1)</script>",
  "</details><details open><summary>x</summary>",
  "a | b | c",
  "a \\| b \\\\| c",
  "back\\slash\\",
  "[x](javascript:alert(1))",
  "![img](http://example.invalid/x.png)",
  "<https://example.invalid>",
  "x".repeat(9000),
  "A -->> B: hi; Note over S: pwned # done",
  "S-xC: RST; end",
  '%%{init: {"theme": "dark"}}%%',
  "\"double\" and 'single' quotes",
  "- list item",
  "1. ordered",
  "> quote",
  "===",
  "---",
  "    indented code",
  "<!-- comment",
  "&lt;&#60;&amp;",
  "$x^2$",
  "*emph* _under_ **strong** ~~strike~~",
  "line\u2028separator\r\nCRLF\ttab\u0000nul",
  "`code` ``double``",
  "| --- | --- |",
  "#",
];

/** A results file with every optional field filled, so every renderer path runs. */
function full(): Results {
  const r: Results = structuredClone(SAMPLE);
  r.target.knobs = { "keepalive": "on", "idle timeout": "30 s" };
  r.environment.interrupted = { signal: "SIGINT", finished: 3, planned: 5 };
  const s = r.scenarios[0]!;
  s.recommendation = "Set a keepalive";
  s.notes = "A note.";
  s.server = { stderrTail: "stderr line", log: "log line" };
  s.measurements.leak = { kernelEndedMs: 7875, how: "keepalive-timeout", fd: 7 };
  s.measurements.serverExit = { code: 141, signal: "SIGPIPE" };
  s.expectations.push({
    kind: "server-alive",
    level: "MUST",
    expectation: "server alive",
    verdict: "warn",
    measured: "died",
    predicted: true,
  });
  s.prediction = {
    ...s.prediction!,
    toleranceMs: { early: 0, late: 625 },
    atMs: 5000,
    watchedMs: 60_000,
    situation: "peer silent",
  };
  r.scenarios.push({ ...structuredClone(s), id: "vanish/mid-request", verdict: "interrupted" });
  return r;
}

/** Every string a target, a server or a results file controls, replaced by `f(old)`. */
function mapStrings(r: Results, f: (old: string) => string): Results {
  const c = structuredClone(r);
  if (c.target.title !== undefined) c.target.title = f(c.target.title);
  c.target.version = f(c.target.version);
  if (c.target.knobs) {
    c.target.knobs = Object.fromEntries(
      Object.entries(c.target.knobs).map(([k, v], i) => [`${f(k)}${i}`, f(v)]),
    );
  }
  c.environment.kernel = f(c.environment.kernel);
  c.environment.clientdown = f(c.environment.clientdown);
  if (c.environment.interrupted) c.environment.interrupted.signal = f("SIGINT");
  for (const s of c.scenarios) {
    s.title = f(s.title);
    s.requirement = f(s.requirement);
    s.refs = s.refs.map(f);
    s.notes = s.notes ? f(s.notes) : "";
    if (s.recommendation) s.recommendation = f(s.recommendation);
    if (s.server?.stderrTail) s.server.stderrTail = f(s.server.stderrTail);
    if (s.server?.log) s.server.log = f(s.server.log);
    for (const e of s.expectations) {
      e.expectation = f(e.expectation);
      e.measured = f(e.measured);
    }
    if (s.prediction) {
      s.prediction.from = f(s.prediction.from);
      s.prediction.mechanism = f(s.prediction.mechanism);
      if (s.prediction.situation) s.prediction.situation = f(s.prediction.situation);
    }
    for (const e of s.evidence) e.what = f(e.what);
  }
  return c;
}

const parser = new MarkdownIt({ html: true });
/** Inline tokens that carry structure; text is left out. */
const INLINE = new Set([
  "link_open",
  "link_close",
  "strong_open",
  "strong_close",
  "em_open",
  "em_close",
  "s_open",
  "s_close",
  "code_inline",
  "html_inline",
  "image",
  "hardbreak",
]);

const norm = (value: string) => value.replace(/\s+/g, " ").trim();

/**
 * The document as parsed: its blocks (with HTML blocks' text and fences' info), the inline
 * markup of each block, and the text each block shows, where the untrusted string `planted`
 * (as the renderer shows it: flattened, a prediction's dashes as spaces, a note's first
 * sentence, a mechanism's parts around ": ", a version cut with "…") reads `⟨S⟩`. Two documents with the same structure differ only in those strings.
 */
function structure(markdown: string, planted: string): string[] {
  const flat = (v: string) => norm(oneLine(v));
  // A prediction's mechanism shows as its parts around ": " (the kind, then the detail).
  const parts = planted.split(": ").map(flat);
  const shown = [flat(planted), flat(planted.replaceAll("-", " ")), ...parts].filter(Boolean)
    .sort((a, b) => b.length - a.length);
  const firstSentence = flat(planted.split(/(?<=\.)\s/)[0] ?? "");
  const out: string[] = [];
  for (const token of parser.parse(markdown, {})) {
    if (token.type === "inline") {
      let words = "";
      for (const child of token.children ?? []) {
        if (child.type === "text" || child.type === "code_inline") words += child.content;
        else if (child.type === "softbreak") words += " ";
        if (!INLINE.has(child.type)) continue;
        const href = child.attrGet("href");
        out.push(`  ${child.type}${href === null ? "" : ` ${href.startsWith("#") ? "#…" : href}`}`);
      }
      let text = norm(words);
      if (text === firstSentence) text = "⟨S⟩";
      // A long version is cut in the index's summary: its start and "…".
      const cut = /^(.+)…$/.exec(text)?.[1];
      if (cut && flat(planted).startsWith(norm(cut))) text = "⟨S⟩";
      // A prediction's `from` made only of dashes shows as nothing.
      if (!flat(planted.replaceAll("-", " "))) {
        text = text.replace("after the by", "after the⟨S⟩by");
      }
      for (const s of shown) text = text.replaceAll(s, "⟨S⟩");
      out.push(`  "${text.replace(/\s*⟨S⟩\s*/g, "⟨S⟩")}"`);
    } else {
      const html = token.type === "html_block" ? ` ${token.content.trim()}` : "";
      out.push(`${token.type} ${token.tag} ${token.info}${html}`);
    }
  }
  return out;
}

/** The Mermaid blocks of a document. */
function diagrams(markdown: string): string[] {
  return parser.parse(markdown, {}).filter((t) => t.type === "fence" && t.info === "mermaid")
    .map((t) => t.content);
}

Deno.test("hostile strings through every renderer: the parsed structure is the one meant", async () => {
  const base = full();
  assert(validateResults(base).ok);
  const plain = mapStrings(base, () => "plain text");
  const meant = structure(renderTargetReport(plain), "plain text");
  const meantIndex = structure(renderIndex([plain, SAMPLE]), "plain text");
  // What the renderer means: its own headings, tables, details blocks and fences.
  assert.equal(meant.filter((l) => l.startsWith("heading_open h3")).length, 3);
  assert.equal(meant.filter((l) => l === "fence code mermaid").length, 2);
  assert.equal(meant.filter((l) => l === "fence code text").length, 4);
  assert.equal(meant.filter((l) => l.startsWith("html_block")).length, 12);
  let parsed = 0;
  for (const hostile of [...HOSTILE, HOSTILE.join("\n")]) {
    const results = mapStrings(base, () => hostile);
    const check = validateResults(results);
    assert(check.ok, `valid results: ${JSON.stringify(hostile).slice(0, 60)}`);
    const markdown = renderTargetReport(results);
    const name = JSON.stringify(hostile).slice(0, 60);
    assert.deepEqual(structure(markdown, hostile), meant, `target report with ${name}`);
    assert.deepEqual(
      structure(renderIndex([results, SAMPLE]), hostile),
      meantIndex,
      `index with ${name}`,
    );
    for (const diagram of diagrams(markdown)) {
      const { diagramType } = await mermaid.parse(diagram);
      assert.equal(diagramType, "sequence", `${name}:\n${diagram}`);
      assert.doesNotMatch(diagram.replaceAll("->>", ""), /%%|<|>/, `no directive or HTML: ${name}`);
      parsed++;
    }
  }
  assert.equal(parsed, 2 * (HOSTILE.length + 1));
});

Deno.test("hostile text keeps its words: escaped, not dropped", () => {
  const md = renderTargetReport(
    mapStrings(full(), (s) => s === "A note." ? "<script>x</script>" : s),
  );
  assert.match(md, /^\\<script\\>x\\<\/script\\>$/m);
  const html = parser.render(md);
  assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
  assert.doesNotMatch(html, /<script>/);
});

Deno.test("escaping: each context's rule", () => {
  assert.equal(text("a | b\n# c").toString(), "a \\| b \\# c");
  assert.equal(text("a \\| b").toString(), "a \\\\\\| b");
  assert.equal(
    text("so_keepalive _exit(2) __init__ RFC 9293 §3.8.4; 5 s").toString(),
    "so_keepalive _exit(2) \\__init\\_\\_ RFC 9293 §3.8.4; 5 s",
  );
  assert.equal(blockText("  - item").toString(), "\\- item");
  assert.equal(blockText("12. item").toString(), "12\\. item");
  assert.equal(blockText("=== ").toString(), "\\=== ");
  assert.equal(code("a`b").toString(), "``a`b``");
  assert.equal(code("`").toString(), "`` ` ``");
  assert.equal(codeBlock("```\nx\n````").toString(), "`````text\n```\nx\n````\n`````");
  assert.equal(htmlText(`</details>"'&`).toString(), "&lt;/details&gt;&quot;&#39;&amp;");
  assert.equal(linkTarget("javascript:alert(1)").toString(), "./javascript:alert%281%29");
  assert.equal(linkTarget("nginx@so-keepalive.md").toString(), "nginx@so-keepalive.md");
  assert.equal(linkTarget("#a b<c>").toString(), "#a%20b%3Cc%3E");
  assert.equal(mermaidText("a; b # <c> %%{x}%%").toString(), "a b #60;c#62; #37;#37;{x}#37;#37;");
  assert.equal(mermaidText("y".repeat(500)).toString().length, 200);
});
