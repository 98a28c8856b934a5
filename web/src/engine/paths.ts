// Names that become URL paths below the lab's own models/ directory (bundled model ids, their
// training checkpoints): plain segments of letters, digits, "_", "-" and ".", none starting with
// "." (so never ".."), no scheme, no leading "/". One rule for every place that builds such a path.

export function isPlainPath(path: string, maxSegments: number): boolean {
  if (typeof path !== "string" || path.length > 256) return false;
  const segments = path.split("/");
  return segments.length <= maxSegments && segments.every((s) => /^[\w-][\w.-]{0,63}$/.test(s));
}
