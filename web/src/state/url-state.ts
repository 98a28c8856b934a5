// Experiment <-> URL fragment. Versioned; short states stay readable
// (#v=1&model=hooklab-demo&prompt=...), long ones are compressed (#v=1&z=... with lz-string).
// Decoding never throws: a malformed or hostile fragment yields the default experiment and a
// notice that says what could not be restored.

import { compressToEncodedURIComponent } from "lz-string";
import { DATASET_SHARE_LIMIT, DEFAULT_EXPERIMENT, MAX_ANSWER, MAX_MODEL_NAME, MAX_TEXT, sanitizeExperiment, type Experiment } from "./experiment";
import { decompressBounded } from "./lz-bounded";

export const URL_VERSION = 1;
const READABLE_LIMIT = 600;  // characters of fragment before we compress
const MAX_FRAGMENT = 100_000;
/**
 * The longest JSON a link the lab writes can hold: its texts at their limits, every UTF-16 unit
 * escaped (JSON writes a control character or lone surrogate as 6 characters), plus the short fields.
 */
const MAX_COMPRESSED_JSON = 6 * (4 * MAX_TEXT + DATASET_SHARE_LIMIT + 6 * MAX_ANSWER + MAX_MODEL_NAME) + 2000;

export interface DecodedState {
  experiment: Experiment;
  /** What could not be restored (shown to the user); empty when everything was. */
  notices: string[];
}

/** Whether the experiment's dataset fits in a link (a larger one is left out of it). */
export function datasetShareable(e: Experiment): boolean {
  return e.dataset.length <= DATASET_SHARE_LIMIT;
}

/** Only the fields that differ from the defaults go into the URL. */
function changedFields(e: Experiment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key === "dataset" && !datasetShareable(e)) continue;
    const def = (DEFAULT_EXPERIMENT as unknown as Record<string, unknown>)[key];
    const same = Array.isArray(value) ? value.join() === (def as unknown[]).join() : value === def;
    if (same) continue;
    out[key] = value === null ? "" : Array.isArray(value) ? value.join(",") : String(value);
  }
  return out;
}

/** A lone UTF-16 surrogate, which percent-encoding (UTF-8) cannot carry; lz-string's alphabet can. */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function encodeExperiment(e: Experiment): string {
  const fields = changedFields(e);
  const readable = new URLSearchParams({ v: String(URL_VERSION), ...fields }).toString();
  if (readable.length <= READABLE_LIMIT && !Object.values(fields).some((v) => LONE_SURROGATE.test(v))) return readable;
  return new URLSearchParams({ v: String(URL_VERSION), z: compressToEncodedURIComponent(JSON.stringify(fields)) }).toString();
}

/** An open lesson's part of a link (#…&lesson=<url>&step=N), read by lesson mode, not by the experiment. */
export const LESSON_PARAMS = ["lesson", "step"] as const;

/** Parameters of the page itself, not of the experiment. */
const PAGE_PARAMS = new Set(["v", "z", "embed", "hub", ...LESSON_PARAMS]);

function fromParams(params: URLSearchParams): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of params) if (!PAGE_PARAMS.has(k)) raw[k] = v;
  for (const k of ["position", "head"]) if (raw[k] === "") raw[k] = null;
  return raw;
}

/** Version 0: the first lab's query string (?prompt=&model=&layer=), before fragments. */
function migrateV0(query: URLSearchParams): Record<string, unknown> {
  const raw = fromParams(query);
  if (typeof raw.bos === "string") raw.prependBos = raw.bos;
  delete raw.bos;
  return raw;
}

/** The fields of a compressed link (#v=1&z=…), or the notice that says why there are none. */
function readCompressed(z: string): { raw: Record<string, unknown> } | { notice: string } {
  // Bounded: a hostile z could otherwise decompress to gigabytes.
  const json = decompressBounded(z, MAX_COMPRESSED_JSON);
  if ("problem" in json && json.problem === "too large") {
    return { notice: "The link's compressed experiment is larger than any the lab writes; the default experiment is shown." };
  }
  let parsed: unknown;
  try {
    parsed = "text" in json && json.text ? JSON.parse(json.text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { notice: "The link's compressed experiment is damaged; the default experiment is shown." };
  }
  const raw = parsed as Record<string, unknown>;
  for (const k of ["position", "head"]) if (raw[k] === "") raw[k] = null;
  return { raw };
}

export function decodeLocation(hash: string, search = ""): DecodedState {
  const notices: string[] = [];
  const fragment = hash.startsWith("#") ? hash.slice(1) : hash;
  const query = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
  let raw: Record<string, unknown> = {};

  if (fragment.length > MAX_FRAGMENT) {
    notices.push("The link is too long to be a hooklab experiment; the default experiment is shown.");
  } else if (fragment) {
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(fragment);
    } catch {
      params = new URLSearchParams();
    }
    const version = Number(params.get("v"));
    const onlyLesson = [...params.keys()].every((k) => (LESSON_PARAMS as readonly string[]).includes(k));
    if (onlyLesson) {
      // A lesson link with no experiment (#lesson=<url>&step=N): the default experiment, no notice.
    } else if (!params.has("v") || !Number.isInteger(version)) {
      notices.push("The link has no hooklab version; the default experiment is shown.");
    } else if (version > URL_VERSION) {
      notices.push(`The link was made by a newer hooklab (version ${version}); this lab reads up to version ${URL_VERSION}. The default experiment is shown.`);
    } else if (version < 1) {
      notices.push(`Link version ${version} is unknown; the default experiment is shown.`);
    } else if (params.has("z")) {
      const read = readCompressed(params.get("z") ?? "");
      if ("raw" in read) raw = read.raw;
      else notices.push(read.notice);
    } else {
      raw = fromParams(params);
    }
  } else if (query.has("prompt") || query.has("model")) {
    raw = migrateV0(query);
    notices.push("This link uses the old query-string format; it was converted (share it again for the current format).");
  }

  const { experiment, problems } = sanitizeExperiment(raw);
  for (const p of problems) notices.push(`Could not restore: ${p}.`);
  return { experiment, notices };
}
