// Worker side: downloads a model's files (config.json, model.safetensors and its own tokenizer
// files when it has them) into the browser's
// Origin Private File System so the next visit is offline, resumes dropped downloads with HTTP
// range requests, and checks size and SHA-256 (from the Hugging Face hub's metadata, or
// computed on first download) so a broken download never loads. listStored / removeStored
// also work on the page (they need no sync access handle), for "manage storage" views.
//
// Store layout, one directory per file: hooklab-models/<key>/
//   data           the bytes (complete, or a resumable prefix while downloading)
//   download.json  {url, size, sha256} of a download in progress
//   meta.json      {url, size, sha256}, written last, only after the checks pass
// Only a directory with meta.json is a stored model; a failed download is deleted.
//
// A store that runs out of room mid-download (a private window keeps it in memory, with a limit
// of 1.3-1.7 GB in Chromium that navigator.storage.estimate() does not show; a full disk) makes
// the file's sync handle write short or throw QuotaExceededError. The download then goes on into
// memory, with the prefix already written read back, so the model still loads, checked the same
// way; it is not kept, and the progress says so (LoadProgress.notStored).

import { Sha256 } from "./sha256";
import type { LoadProgress } from "./types";

export interface DownloadContext {
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  hubEndpoint?: string;
  heap: () => Uint8Array;
}

interface RemoteFile {
  name: string;
  base: string;
  hub?: { endpoint: string; id: string; revision: string };
}

interface Expected {
  size?: number;
  sha256?: string;
}

interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

type FileHandleWithSync = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncHandle> };

const MAX_ATTEMPTS = 5;
const STORE_DIR = "hooklab-models";

export function storeKey(url: string): string {
  return url.replace(/^https?:\/\//, "").replace(/[^\w.@-]+/g, "_").slice(-200);
}

type HubEntry = { path: string; size?: number; lfs?: { oid: string; size: number } };

/** The hub's list of the model's files; undefined when it does not answer (offline: the store decides). */
async function hubTree(file: RemoteFile, signal?: AbortSignal): Promise<HubEntry[] | undefined> {
  if (!file.hub) return undefined;
  const { endpoint, id, revision } = file.hub;
  try {
    const response = await fetch(`${endpoint}/api/models/${id}/tree/${revision}`, { signal });
    if (!response.ok) return undefined;
    const entries: unknown = await response.json();
    return Array.isArray(entries) ? (entries as HubEntry[]) : undefined;
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    return undefined;
  }
}

/** Size and SHA-256 the hub publishes for a file (its LFS object id is the SHA-256). */
function expectedOf(entry: HubEntry | undefined): Expected {
  return entry ? { size: entry.lfs?.size ?? entry.size, sha256: entry.lfs?.oid } : {};
}

async function hubMetadata(file: RemoteFile, path: string, signal?: AbortSignal): Promise<Expected> {
  return expectedOf((await hubTree(file, signal))?.find((e) => e.path === path));
}

async function readJson<T>(dir: FileSystemDirectoryHandle, name: string): Promise<T | undefined> {
  try {
    const file = await (await dir.getFileHandle(name)).getFile();
    return JSON.parse(await file.text()) as T;
  } catch {
    return undefined;
  }
}

async function writeJson(dir: FileSystemDirectoryHandle, name: string, value: unknown): Promise<void> {
  const handle = (await dir.getFileHandle(name, { create: true })) as FileHandleWithSync;
  const access = await handle.createSyncAccessHandle();
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    access.truncate(0);
    // A full in-memory store writes short instead of throwing (see the top of this file).
    if (access.write(bytes, { at: 0 }) !== bytes.length) throw new DOMException(`${name} was written short`, "QuotaExceededError");
    access.flush();
  } finally {
    access.close();  // an open handle would keep the entry from being deleted
  }
}

export interface StoredFile {
  reader: { size: number; read(offset: number, length: number, pointer: number): void };
  /** A copy of bytes [offset, offset + length), for small files such as config.json. */
  bytes(offset: number, length: number): Uint8Array;
  close(): void;
}

/** An error whose name tells the optional-file lookup why a download failed. */
function namedError(name: "ModelFileNotFound" | "ModelFileUnreachable", message: string, cause?: unknown): Error {
  const e = new Error(message, { cause });
  e.name = name;
  return e;
}

function abortError(): Error {
  const e = new Error("the download was cancelled");
  e.name = "AbortError";
  return e;
}

/**
 * Streams url into `write(chunk, at)` from byte `start`, resuming after dropped connections.
 * Returns the total size written.
 */
async function streamInto(url: string, start: number, expected: Expected, ctx: DownloadContext, fileName: string,
                          write: (chunk: Uint8Array, at: number) => void, restart: () => void): Promise<number> {
  let offset = start;
  let total = expected.size;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal?.aborted) throw abortError();
    let response: Response;
    try {
      response = await fetch(url, { signal: ctx.signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      // A fetch that rejects never reached the server: say so in the user's terms.
      if (attempt >= MAX_ATTEMPTS) {
        throw namedError("ModelFileUnreachable", `cannot reach ${new URL(url).host} (offline?): ${fileName} failed ${attempt} times (${(e as Error).message})`, e);
      }
      continue;
    }
    if (response.status === 404) throw namedError("ModelFileNotFound", `${fileName}: not found at ${url} (404); check the model id, revision or address`);
    if (response.status === 416 && offset > 0) {
      // The stored prefix already holds the whole file (interrupted after the last byte and
      // before meta.json): done if that is the announced size, else start over.
      if (total !== undefined && offset === total) return offset;
      offset = 0;
      restart();
      continue;
    }
    if (!response.ok) throw new Error(`${fileName}: ${url} answered ${response.status} ${response.statusText}`.trim());
    if (offset > 0 && response.status !== 206) {
      offset = 0;  // the server ignored the range: start over
      restart();
    }
    if (total === undefined) {
      const length = Number(response.headers.get("Content-Length"));
      if (length > 0) total = offset + length;
    }
    const reader = response.body!.getReader();
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        if ((e as Error).name === "AbortError" || ctx.signal?.aborted) throw abortError();
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`${fileName}: the connection dropped ${attempt} times (${(e as Error).message}); try again later`, { cause: e });
        }
        break;  // dropped mid-file: the next attempt asks for the rest with a range request
      }
      if (next.done) return offset;
      try {
        write(next.value, offset);
      } catch (e) {
        // Where the bytes go failed, not the connection: no retry.
        void reader.cancel().catch(() => undefined);
        throw e;
      }
      offset += next.value.length;
      ctx.onProgress?.({ stage: "download", fraction: total ? offset / total : 0, loadedBytes: offset, totalBytes: total, file: fileName });
    }
  }
}

function checkComplete(fileName: string, size: number, sha256: string, expected: Expected): void {
  if (expected.size !== undefined && size !== expected.size) {
    throw new Error(`${fileName}: downloaded ${size} bytes but the server announced ${expected.size}; the download is broken and was discarded`);
  }
  if (expected.sha256 !== undefined && sha256 !== expected.sha256) {
    throw new Error(`${fileName}: SHA-256 ${sha256} does not match the hub's ${expected.sha256}; the download is corrupt and was discarded`);
  }
}

/** A file held in memory as the chunks it arrived in: never joined, so never held twice. */
class MemoryFile {
  private chunks: Uint8Array[] = [];
  private starts: number[] = [];
  size = 0;

  append(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.starts.push(this.size);
    this.size += chunk.length;
  }

  /** Copies bytes [offset, offset + into.length) into `into`. */
  copy(offset: number, into: Uint8Array): void {
    if (offset < 0 || offset + into.length > this.size) throw new RangeError(`read [${offset}, ${offset + into.length}) of a ${this.size}-byte file`);
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {  // the last chunk starting at or before offset
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    for (let done = 0, c = lo; done < into.length; c++) {
      const from = offset + done - this.starts[c];
      const part = this.chunks[c].subarray(from, Math.min(this.chunks[c].length, from + into.length - done));
      into.set(part, done);
      done += part.length;
    }
  }

  asStoredFile(ctx: DownloadContext): StoredFile {
    return fileReadBy(this.size, (into, offset) => this.copy(offset, into), () => {
      this.chunks = [];
      this.starts = [];
      this.size = 0;
    }, ctx);
  }
}

/** Downloads without a persistent store (no OPFS): into memory, same checks. */
async function downloadToMemory(url: string, expected: Expected, ctx: DownloadContext, fileName: string): Promise<StoredFile> {
  let memory = new MemoryFile();
  let hash = new Sha256();
  const size = await streamInto(url, 0, expected, ctx, fileName, (chunk) => {
    memory.append(chunk);
    hash.update(chunk);
  }, () => {
    memory = new MemoryFile();
    hash = new Sha256();
  });
  checkComplete(fileName, size, hash.hex(), expected);
  return memory.asStoredFile(ctx);
}

function isQuotaError(e: unknown): boolean {
  return (e as Error)?.name === "QuotaExceededError";
}

/**
 * The store ran out of room: bytes [0, size) of the open store file move into memory (the store
 * file is emptied, giving the room back: in a private window the store is memory too), and the
 * progress says the file will not be kept.
 */
function moveToMemory(access: SyncHandle, size: number, ctx: DownloadContext, fileName: string, total?: number): MemoryFile {
  const memory = new MemoryFile();
  const piece = 64 << 20;
  for (let at = 0; at < size; at += piece) {
    const chunk = new Uint8Array(Math.min(piece, size - at));
    const n = access.read(chunk, { at });
    if (n !== chunk.length) throw new Error(`${fileName}: the browser's store returned ${n} of ${chunk.length} bytes at ${at} while it ran out of room; load the model again`);
    memory.append(chunk);
  }
  access.truncate(0);
  ctx.onProgress?.({ stage: "download", fraction: total ? size / total : 1, loadedBytes: size, totalBytes: total, file: fileName,
    notStored: NOT_STORED });
  return memory;
}

/** The file's store directory, or why there is none: "full" (no room for it) or "none" (no OPFS, e.g. some private modes). */
async function openStoreDir(key: string): Promise<FileSystemDirectoryHandle | "full" | "none"> {
  try {
    const root = await navigator.storage.getDirectory();
    const store = await root.getDirectoryHandle(STORE_DIR, { create: true });
    return await store.getDirectoryHandle(key, { create: true });
  } catch (e) {
    return isQuotaError(e) ? "full" : "none";
  }
}

/**
 * Deletes a stored file (a key from listStored). Resolves false when there was none; rejects
 * when it cannot be deleted, e.g. while a download in another tab holds it open.
 */
export async function removeStored(key: string): Promise<boolean> {
  let store: FileSystemDirectoryHandle;
  try {
    store = await (await navigator.storage.getDirectory()).getDirectoryHandle(STORE_DIR);
  } catch {
    return false;  // no store (or no OPFS) at all
  }
  try {
    await store.removeEntry(key, { recursive: true });
    return true;
  } catch (e) {
    if ((e as Error).name === "NotFoundError") return false;
    throw new Error(`could not delete the stored model file '${key}' (${(e as Error).message})`, { cause: e });
  }
}

/** Cleanup after a failed download: never hides the error that caused it. */
async function discard(key: string): Promise<void> {
  await removeStored(key).catch(() => undefined);
}

/** A complete, verified file in the store. */
export interface StoredModelFile {
  key: string;
  url: string;
  size: number;
  sha256: string;
}

/** The complete, verified files in the store (works on the page and in workers). */
export async function listStored(): Promise<StoredModelFile[]> {
  const out: StoredModelFile[] = [];
  try {
    const root = await navigator.storage.getDirectory();
    const store = await root.getDirectoryHandle(STORE_DIR);
    for await (const [key, handle] of (store as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind !== "directory") continue;
      const meta = await readJson<{ url: string; size: number; sha256: string }>(handle as FileSystemDirectoryHandle, "meta.json");
      if (meta) out.push({ key, ...meta });
    }
  } catch {
    /* empty store */
  }
  return out;
}

/** A complete file in the store, read through its open sync handle (closed by close()). */
function storedFile(access: SyncHandle, size: number, ctx: DownloadContext, fileName: string): StoredFile {
  // A short read would leave stale bytes where weights belong: refuse it instead.
  return fileReadBy(size, (into, offset) => {
    const n = access.read(into, { at: offset });
    if (n !== into.length) {
      throw new Error(`${fileName}: the browser's store returned ${n} of ${into.length} bytes at offset ${offset}; ` +
        "remove the stored copy (removeStoredModel) and load the model again");
    }
  }, () => access.close(), ctx);
}

/** A StoredFile over `readInto(into, offset)`, which fills `into` with the bytes from offset. */
function fileReadBy(size: number, readInto: (into: Uint8Array, offset: number) => void, close: () => void,
                    ctx: DownloadContext): StoredFile {
  return {
    reader: {
      size,
      read: (offset, length, pointer) => {
        const into = ctx.heap().subarray(pointer, pointer + length);
        if (into.length !== length) throw new RangeError(`a read of ${length} bytes at ${pointer} is past the engine's memory`);
        readInto(into, offset);
      },
    },
    bytes(offset, length) {
      const out = new Uint8Array(length);
      readInto(out, offset);
      return out;
    },
    close,
  };
}

const NOT_KEPT = ": the model is loaded but not kept, and will be downloaded again next time";
const NOT_STORED = `this browser's storage for the site is full or limited (as in a private window)${NOT_KEPT}`;
const NO_STORE = `this browser gives the page no file storage (as some private windows do)${NOT_KEPT}`;

/**
 * Streams the file into the open store file from `start` (hashing the stored prefix first), and
 * on into memory once the store runs out of room (`spilled`: the whole file from then on).
 */
async function streamIntoStore(access: SyncHandle, start: number, url: string, expected: Expected, ctx: DownloadContext,
                               fileName: string): Promise<{ size: number; sha256: string; spilled?: MemoryFile }> {
  let hash = new Sha256();
  const prefix = new Uint8Array(1 << 20);
  for (let at = 0; at < start; at += prefix.length) {
    const piece = prefix.subarray(0, Math.min(prefix.length, start - at));
    if (access.read(piece, { at }) !== piece.length) {  // the stored prefix cannot be trusted: start over
      access.truncate(0);
      start = 0;
      hash = new Sha256();
      break;
    }
    hash.update(piece);
  }
  let spilled: MemoryFile | undefined;
  const size = await streamInto(url, start, expected, ctx, fileName, (chunk, at) => {
    if (!spilled) {
      let written = -1;
      try {
        written = access.write(chunk, { at });
      } catch (e) {
        if (!isQuotaError(e)) throw e;
      }
      if (written !== chunk.length) {  // Chromium's in-memory store writes short when full
        spilled = moveToMemory(access, at, ctx, fileName, expected.size);
      }
    }
    spilled?.append(chunk);
    hash.update(chunk);
  }, () => {
    access.truncate(0);
    if (spilled) spilled = new MemoryFile();
    hash = new Sha256();
  });
  if (!spilled) {
    try {
      access.flush();
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      spilled = moveToMemory(access, size, ctx, fileName, size);
    }
  }
  return { size, sha256: hash.hex(), spilled };
}

/** Marks a checked download complete in the store, or, when the store has no room left, hands it over from memory. */
async function finishDownload(dir: FileSystemDirectoryHandle, access: SyncHandle, url: string,
                              streamed: { size: number; sha256: string; spilled?: MemoryFile }, ctx: DownloadContext,
                              fileName: string): Promise<StoredFile> {
  let memory = streamed.spilled;
  if (!memory) {
    try {
      await writeJson(dir, "meta.json", { url, size: streamed.size, sha256: streamed.sha256 });
      await dir.removeEntry("download.json");
      return storedFile(access, streamed.size, ctx, fileName);
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      // Whole in the store, but it cannot be marked complete there: load it from memory.
      memory = moveToMemory(access, streamed.size, ctx, fileName, streamed.size);
    }
  }
  access.close();
  await discard(storeKey(url));
  return memory.asStoredFile(ctx);
}

export async function downloadModelFile(file: RemoteFile, path: string, ctx: DownloadContext): Promise<StoredFile> {
  return downloadExpected(file, path, ctx, await hubMetadata(file, path, ctx.signal));
}

/** The download itself, with the size and hash the hub published (if any) to check it against. */
async function downloadExpected(file: RemoteFile, path: string, ctx: DownloadContext, expected: Expected): Promise<StoredFile> {
  const url = `${file.base}${path}`;
  const fileName = `${file.name}/${path}`;
  const dir = await openStoreDir(storeKey(url));
  if (typeof dir === "string") {
    ctx.onProgress?.({ stage: "download", fraction: 0, file: fileName, notStored: dir === "full" ? NOT_STORED : NO_STORE });
    return downloadToMemory(url, expected, ctx, fileName);
  }

  let access: SyncHandle;
  try {
    const handle = (await dir.getFileHandle("data", { create: true })) as FileHandleWithSync;
    access = await handle.createSyncAccessHandle();
  } catch (e) {
    if (isQuotaError(e)) {  // a full store refuses new files
      await discard(storeKey(url));
      ctx.onProgress?.({ stage: "download", fraction: 0, file: fileName, notStored: NOT_STORED });
    }
    return downloadToMemory(url, expected, ctx, fileName);  // else locked by another tab: do not wait
  }
  try {
    const meta = await readJson<{ url: string; size: number; sha256: string }>(dir, "meta.json");
    const fresh = meta && (expected.sha256 === undefined || expected.sha256 === meta.sha256) &&
      (expected.size === undefined || expected.size === meta.size);
    if (meta && fresh && access.getSize() === meta.size) {
      ctx.onProgress?.({ stage: "download", fraction: 1, loadedBytes: meta.size, totalBytes: meta.size, file: fileName });
      return storedFile(access, meta.size, ctx, fileName);
    }
    // Resume a download of the same file if one was interrupted; otherwise start over.
    const pending = await readJson<{ url: string; size?: number; sha256?: string }>(dir, "download.json");
    let start = 0;
    if (!meta && pending && pending.url === url && pending.sha256 === expected.sha256 && pending.size === expected.size) {
      start = access.getSize();
    } else {
      access.truncate(0);
    }
    try {
      await dir.removeEntry("meta.json");
    } catch {
      /* none */
    }
    try {
      await writeJson(dir, "download.json", { url, ...expected });
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      access.close();
      await discard(storeKey(url));
      ctx.onProgress?.({ stage: "download", fraction: 0, file: fileName, notStored: NOT_STORED });
      return downloadToMemory(url, expected, ctx, fileName);
    }
    const streamed = await streamIntoStore(access, start, url, expected, ctx, fileName);
    try {
      checkComplete(fileName, streamed.size, streamed.sha256, expected);
    } catch (e) {
      access.close();
      await discard(storeKey(url));
      throw e;
    }
    return await finishDownload(dir, access, url, streamed, ctx, fileName);
  } catch (e) {
    try {
      access.close();
    } catch {
      /* already closed */
    }
    // A cancelled download keeps its prefix for a later resume; any other failure leaves nothing.
    if ((e as Error).name !== "AbortError") await discard(storeKey(url));
    throw e;
  }
}

/**
 * A file the model may lack (its own tokenizer files), at most maxBytes: undefined when the hub's
 * list does not have it, the server answers 404, or — without a list to say it exists — the
 * server cannot be reached (a model stored before it had this file keeps loading offline, with
 * what it had). A file the list has but that cannot be fetched is an error, never "absent". A
 * failed lookup or a refused file leaves nothing in the store.
 */
export async function downloadOptionalModelFile(file: RemoteFile, path: string, ctx: DownloadContext,
                                                maxBytes: number): Promise<StoredFile | undefined> {
  const listed = await hubTree(file, ctx.signal);
  const entry = listed?.find((e) => e.path === path);
  if (listed && !entry) return undefined;
  const expected = expectedOf(entry);
  const tooLarge = (bytes: number) => new Error(`${file.name}/${path}: ${(bytes / 2 ** 20).toFixed(0)} MiB; hooklab reads files like it up to ${maxBytes / 2 ** 20} MiB`);
  if (expected.size !== undefined && expected.size > maxBytes) throw tooLarge(expected.size);
  let stored: StoredFile;
  try {
    stored = await downloadExpected(file, path, ctx, expected);
  } catch (e) {
    const name = (e as Error).name;
    if (name === "ModelFileNotFound" || (name === "ModelFileUnreachable" && !entry)) return undefined;
    throw e;
  }
  const size = stored.reader.size;
  // Hosts of single-page apps answer 200 with their index.html for a missing file: no such file.
  const html = isHtmlPage(stored.bytes(0, Math.min(size, 64)));
  if (!html && size <= maxBytes) return stored;
  stored.close();
  await discard(storeKey(`${file.base}${path}`));
  if (html) return undefined;
  throw tooLarge(size);
}

function isHtmlPage(head: Uint8Array): boolean {
  return /^\s*<(!doctype html|html)/i.test(new TextDecoder().decode(head));
}
