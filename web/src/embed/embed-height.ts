// The lab in an embed frame tells its host page how tall its content is, so the
// <hooklab-experiment> element (hooklab-embed.ts) can size the frame to it.

export const HEIGHT_MESSAGE = "hooklab:height";
/** Bounds the host applies: a frame never collapses, and a runaway page cannot grow it without end. */
export const MIN_EMBED_HEIGHT = 200;
export const MAX_EMBED_HEIGHT = 5000;

/** Posts `content`'s height to the parent whenever it changes. The height is not secret, so any
 *  host may read it ("*"); the host checks the message's origin and source before applying it. */
export function reportEmbedHeight(content: HTMLElement): void {
  if (window.parent === window) return;
  let last = -1;
  const post = () => {
    const style = getComputedStyle(document.body);
    const height = Math.ceil(content.getBoundingClientRect().bottom + window.scrollY + parseFloat(style.marginBottom || "0"));
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: HEIGHT_MESSAGE, height }, "*");
  };
  new ResizeObserver(post).observe(content);
  post();
}
