// Errors after which the engine's wasm module cannot go on: a trap (RuntimeError), an
// Emscripten abort ("Aborted(...)", e.g. out of memory), or a failed memory growth. The worker
// reports them and ends itself, so the page starts a fresh engine (engine-client.ts).

const MAX_QUOTED = 200;

/** The message the page shows for a fatal error, or undefined when the engine can go on. */
export function fatalMessage(error: unknown): string | undefined {
  const text = String((error as Error)?.message ?? error);
  const trapped = error instanceof WebAssembly.RuntimeError || /^Aborted\(/.test(text);
  const noMemory = error instanceof RangeError && /memory/i.test(text);
  if (!trapped && !noMemory) return undefined;
  const quoted = text.slice(0, MAX_QUOTED);
  if (noMemory || /OOM|out of memory/i.test(text)) return `the engine ran out of memory (wasm memory is at most 4 GB): ${quoted}`;
  return `the engine crashed (${quoted})`;
}
