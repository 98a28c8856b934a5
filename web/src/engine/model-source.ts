// Worker side: turns a ModelSource into the files the core loads — config.json, the tokenizer
// files (the model's own, else GPT-2's) and random access to model.safetensors. The weights are
// never copied into the wasm heap as a whole: the core pulls one tensor at a time through
// WeightsReader.read().

import type { ModelFileSet, ModelSource } from "./types";
import { downloadModelFile, downloadOptionalModelFile, type DownloadContext } from "./model-store";
import { isPlainPath } from "./paths";

export interface WeightsReader {
  size: number;
  /** Copies bytes [offset, offset + length) into heap at pointer. */
  read(offset: number, length: number, pointer: number): void;
}

/**
 * The tokenizer files as the core's loadModel takes them: the model's own tokenizer.json, its own
 * vocab.json + merges.txt, or GPT-2's encoder.json + vocab.bpe (ownTokenizer false).
 */
export interface TokenizerFiles {
  tokenizerJson?: string;
  vocab?: string;
  merges?: string;
  ownTokenizer: boolean;
  /** The file the tokenizer came from, for error messages. */
  vocabName: string;
}

export interface OpenedModel {
  name: string;
  config: string;
  tokenizer: TokenizerFiles;
  weights: WeightsReader;
  weightsName: string;
  /** Releases file handles held by the weights reader. */
  close(): void;
}

export const DEFAULT_HUB = "https://huggingface.co";

/** Where each file of a model directory lives. */
interface RemoteModel {
  name: string;
  base: string;
  /** Hub repository id and revision, when the source is a hub model (for metadata). */
  hub?: { endpoint: string; id: string; revision: string };
}

export function describeSource(source: ModelSource, hubEndpoint = DEFAULT_HUB): RemoteModel | { files: ModelFileSet } | { bundled: string } {
  if (typeof source === "string") {
    if (/^https?:\/\//.test(source)) return { name: source, base: source.endsWith("/") ? source : `${source}/` };
    if (isPlainPath(source, 1)) return { bundled: source };
    if (/^[\w.-]+\/[\w.-]+$/.test(source)) return remoteHub(source, "main", hubEndpoint);
    throw new Error(`'${source}' is not a model name, a Hugging Face id (owner/name) or an http(s) URL`);
  }
  if ("bundled" in source) {
    // A bundled model's directory, or one below it (a training checkpoint): plain segments only.
    if (!isPlainPath(source.bundled, 5)) throw new Error(`'${String(source.bundled).slice(0, 80)}' is not a bundled model name`);
    return { bundled: source.bundled };
  }
  if ("hub" in source) return remoteHub(source.hub, source.revision ?? "main", hubEndpoint);
  if ("url" in source) return { name: source.url, base: source.url.endsWith("/") ? source.url : `${source.url}/` };
  return { files: source.files };
}

function remoteHub(id: string, revision: string, endpoint: string): RemoteModel {
  if (!/^[\w.-]+\/[\w.-]+$/.test(id)) throw new Error(`'${id}' is not a Hugging Face model id (owner/name)`);
  if (!/^[\w.-]+$/.test(revision)) throw new Error(`'${revision}' is not a valid revision`);
  return { name: id, base: `${endpoint}/${id}/resolve/${revision}/`, hub: { endpoint, id, revision } };
}

export function bufferReader(bytes: ArrayBuffer, heap: () => Uint8Array): WeightsReader {
  const view = new Uint8Array(bytes);
  return {
    size: view.byteLength,
    read(offset, length, pointer) {
      heap().set(view.subarray(offset, offset + length), pointer);
    },
  };
}

async function fetchText(url: string, what: string, signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new Error(`${what}: could not fetch ${url} (${(e as Error).message}); check the network or the address`, { cause: e });
  }
  if (!response.ok) throw new Error(`${what}: ${url} answered ${response.status} ${response.statusText}`.trim());
  return response.text();
}

async function asText(value: Blob | ArrayBuffer | string): Promise<string> {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return new TextDecoder().decode(value);
  return value.text();
}

async function asBuffer(value: Blob | ArrayBuffer): Promise<ArrayBuffer> {
  return value instanceof ArrayBuffer ? value : value.arrayBuffer();
}

export interface OpenContext extends DownloadContext {
  assetBase: string;
  heap: () => Uint8Array;
  /** Called with config.json's text before the weights are read or downloaded; throws to refuse
   *  the model (e.g. one too large for the engine's memory). */
  checkConfig?: (config: string) => void;
}

/** The GPT-2 vocabulary shipped with the lab (models/tokenizer). */
async function bundledVocabulary(ctx: OpenContext): Promise<TokenizerFiles> {
  const dir = new URL("models/tokenizer/", ctx.assetBase).href;
  const [vocab, merges] = await Promise.all([
    fetchText(`${dir}encoder.json`, "GPT-2 vocabulary", ctx.signal),
    fetchText(`${dir}vocab.bpe`, "GPT-2 merges", ctx.signal),
  ]);
  return { vocab, merges, ownTokenizer: false, vocabName: "models/tokenizer/encoder.json" };
}

// The core's own limit (kMaxTokenizerFileBytes in core/src/tokenizer/gpt2_files.h), checked here
// too so that a huge file is refused before it is read into a string (or, from the hub, fetched).
const MAX_TOKENIZER_FILE_BYTES = 64 * 2 ** 20;

function checkTokenizerSize(bytes: number, name: string): void {
  if (bytes > MAX_TOKENIZER_FILE_BYTES) {
    throw new Error(`${name}: ${(bytes / 2 ** 20).toFixed(0)} MiB; hooklab reads tokenizer files up to ${MAX_TOKENIZER_FILE_BYTES / 2 ** 20} MiB`);
  }
}

async function boundedText(value: Blob | ArrayBuffer | string, name: string): Promise<string> {
  checkTokenizerSize(typeof value === "string" ? value.length : value instanceof ArrayBuffer ? value.byteLength : value.size, name);
  return asText(value);
}

/** Half of a vocab.json + merges.txt pair is refused, wherever the files come from. */
function checkPair(hasVocab: boolean, hasMerges: boolean, where: string): void {
  if (hasVocab === hasMerges) return;
  const [given, missing] = hasVocab ? ["vocab.json", "merges.txt"] : ["merges.txt", "vocab.json"];
  throw new Error(`${where}${given} was given without ${missing}: a model's own tokenizer needs both (or its tokenizer.json)`);
}

/** Picked files: tokenizer.json, else vocab.json + merges.txt (both or neither), else GPT-2's. */
async function localTokenizer(f: ModelFileSet, ctx: OpenContext): Promise<TokenizerFiles> {
  if (f.tokenizer) return { tokenizerJson: await boundedText(f.tokenizer, "tokenizer.json"), ownTokenizer: true, vocabName: "tokenizer.json" };
  checkPair(Boolean(f.vocab), Boolean(f.merges), "");
  if (f.vocab && f.merges) {
    return { vocab: await boundedText(f.vocab, "vocab.json"), merges: await boundedText(f.merges, "merges.txt"), ownTokenizer: true, vocabName: "vocab.json" };
  }
  return bundledVocabulary(ctx);
}

/** One optional tokenizer file of a remote model, through the store (so it loads offline too). */
async function remoteText(model: RemoteModel, path: string, ctx: OpenContext): Promise<string | undefined> {
  const file = await downloadOptionalModelFile(model, path, { ...ctx, onProgress: undefined }, MAX_TOKENIZER_FILE_BYTES);
  if (!file) return undefined;
  try {
    return new TextDecoder().decode(file.bytes(0, file.reader.size));
  } finally {
    file.close();
  }
}

/** A remote model's tokenizer, looked up in the order the CLI reads a directory's. */
async function remoteTokenizer(model: RemoteModel, ctx: OpenContext): Promise<TokenizerFiles> {
  const tokenizerJson = await remoteText(model, "tokenizer.json", ctx);
  if (tokenizerJson !== undefined) return { tokenizerJson, ownTokenizer: true, vocabName: `${model.name}/tokenizer.json` };
  const vocab = await remoteText(model, "vocab.json", ctx);
  const merges = await remoteText(model, "merges.txt", ctx);
  checkPair(vocab !== undefined, merges !== undefined, `${model.name}: `);
  if (vocab !== undefined && merges !== undefined) return { vocab, merges, ownTokenizer: true, vocabName: `${model.name}/vocab.json` };
  return bundledVocabulary(ctx);
}

export async function openModel(source: ModelSource, ctx: OpenContext): Promise<OpenedModel> {
  const described = describeSource(source, ctx.hubEndpoint);
  if ("files" in described) {
    const f = described.files;
    const config = await asText(f.config);
    ctx.checkConfig?.(config);
    const [tokenizer, weights] = await Promise.all([localTokenizer(f, ctx), asBuffer(f.weights)]);
    return {
      name: f.name ?? "local files", config, tokenizer,
      weights: bufferReader(weights, ctx.heap), weightsName: "model.safetensors", close() {},
    };
  }
  if ("bundled" in described) {
    // Bundled models ship with the lab: a plain fetch, no store needed (the browser caches them).
    const dir = new URL(`models/${described.bundled}/`, ctx.assetBase).href;
    const config = await fetchText(`${dir}config.json`, `bundled model '${described.bundled}'`, ctx.signal);
    ctx.checkConfig?.(config);
    const response = await fetch(`${dir}model.safetensors`, { signal: ctx.signal });
    if (!response.ok) throw new Error(`bundled model '${described.bundled}': model.safetensors answered ${response.status}`);
    const weights = await response.arrayBuffer();
    return {
      name: described.bundled, config, tokenizer: await bundledVocabulary(ctx),
      weights: bufferReader(weights, ctx.heap), weightsName: `${described.bundled}/model.safetensors`, close() {},
    };
  }
  // config.json goes through the store like the weights, so a stored model loads offline.
  const configFile = await downloadModelFile(described, "config.json", { ...ctx, onProgress: undefined });
  let config: string;
  try {
    config = new TextDecoder().decode(configFile.bytes(0, configFile.reader.size));
  } finally {
    configFile.close();
  }
  ctx.checkConfig?.(config);
  const tokenizer = await remoteTokenizer(described, ctx);
  const weights = await downloadModelFile(described, "model.safetensors", ctx);
  return {
    name: described.name, config, tokenizer,
    weights: weights.reader, weightsName: `${described.name}/model.safetensors`, close: () => weights.close(),
  };
}
