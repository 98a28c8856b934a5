// Lesson Markdown -> safe HTML. Two layers, because lesson files are untrusted: marked is set
// to render no HTML of the file's own (raw HTML is shown as text) and to drop links and images
// whose URL is not http(s), mailto or relative; DOMPurify then removes anything else active
// (event attributes, scripts, forms) before the lab inserts the result. The first layer is
// pure so Node tests can check it; the second needs a DOM and runs in the lab.
import { Marked, type Tokens } from "marked";
import DOMPurify from "dompurify";

const SAFE_URL = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A URL a lesson may link to; control characters and entities cannot hide a scheme. */
export function safeUrl(href: string): boolean {
  // Control characters are exactly what must be stripped here: browsers ignore them inside a scheme.
  // eslint-disable-next-line no-control-regex
  const compact = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  return SAFE_URL.test(compact) && !/^[a-z][a-z0-9+.-]*:/i.test(compact.replace(/^(https?|mailto):/i, ""));
}

const lessonMarked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag) { return escapeHtml(token.text); },
    link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      if (!safeUrl(token.href)) return text;
      return `<a href="${escapeHtml(token.href)}" rel="noopener noreferrer" target="_blank">${text}</a>`;
    },
    image(token: Tokens.Image) {
      return safeUrl(token.href) && /^https?:/i.test(token.href)
        ? `<img src="${escapeHtml(token.href)}" alt="${escapeHtml(token.text)}">` : escapeHtml(token.text);
    },
  },
});

/** marked's HTML for lesson text, with the file's own HTML escaped and unsafe links dropped. */
export function lessonMarkdownToHtml(markdown: string): string {
  return lessonMarked.parse(markdown) as string;
}

/** The HTML the lab inserts: the above, then DOMPurify (no event handlers, scripts, forms or styles). */
export function sanitizedLessonHtml(markdown: string): string {
  return DOMPurify.sanitize(lessonMarkdownToHtml(markdown), {
    FORBID_TAGS: ["style", "form", "input", "button", "iframe", "object", "embed", "svg", "math"],
    FORBID_ATTR: ["style"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/|\.{0,2}\/)/i,
  });
}
