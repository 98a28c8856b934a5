// "Show as TransformerLens code": the Python that reproduces a view of the lab in a notebook
// with TransformerLens, in the style of its tutorials. Pure: a view's own inputs in, source text
// out. Every string a user typed reaches the code only through pyString, so no prompt can end
// its literal. The sweep table below is the one mapping from the lab's sweeps to TransformerLens
// (the function names themselves come from the core's table, generated from patching.def).

import { PATCH_SWEEPS, PATH_RECEIVER_INPUTS, type MetricName, type PatchDirection, type PatchMethod, type PatchSweep }
  from "../engine/generated/patching";
import type { WeightPrecisionName } from "../engine/generated/model-options";
import { receiverOf, type Experiment } from "../state/experiment";
import { parseTokenIds, type TokenInput } from "../state/token-ids";

/** How a sweep's cells index an activation (TransformerLens's output shape of the sweep). */
type Cells = "layer_pos" | "layer_head" | "layer_pos_head" | "layer_head_dest" | "layer_head_dest_src";

/** The activations each sweep patches (several for the "every" sweeps), and its cell layout. */
export const SWEEP_CODE: Readonly<Record<PatchSweep, { acts: readonly string[]; cells: Cells }>> = {
  resid_pre: { acts: ["resid_pre"], cells: "layer_pos" },
  resid_mid: { acts: ["resid_mid"], cells: "layer_pos" },
  attn_out: { acts: ["attn_out"], cells: "layer_pos" },
  mlp_out: { acts: ["mlp_out"], cells: "layer_pos" },
  head_out_by_pos: { acts: ["z"], cells: "layer_pos_head" },
  head_q_by_pos: { acts: ["q"], cells: "layer_pos_head" },
  head_k_by_pos: { acts: ["k"], cells: "layer_pos_head" },
  head_v_by_pos: { acts: ["v"], cells: "layer_pos_head" },
  head_out: { acts: ["z"], cells: "layer_head" },
  head_q: { acts: ["q"], cells: "layer_head" },
  head_k: { acts: ["k"], cells: "layer_head" },
  head_v: { acts: ["v"], cells: "layer_head" },
  head_pattern: { acts: ["pattern"], cells: "layer_head" },
  head_pattern_by_pos: { acts: ["pattern"], cells: "layer_head_dest" },
  head_pattern_dest_src: { acts: ["pattern"], cells: "layer_head_dest_src" },
  block_every: { acts: ["resid_pre", "attn_out", "mlp_out"], cells: "layer_pos" },
  head_all_pos_every: { acts: ["z", "q", "k", "v", "pattern"], cells: "layer_head" },
  head_by_pos_every: { acts: ["z", "q", "k", "v", "pattern"], cells: "layer_pos_head" },
};

/** The lab's model ids that TransformerLens knows by another name (its official model list). */
const TL_MODEL_NAMES: Readonly<Record<string, string>> = {
  "openai-community/gpt2": "gpt2", "gpt2": "gpt2", "openai-community/gpt2-medium": "gpt2-medium",
  "openai-community/gpt2-large": "gpt2-large", "openai-community/gpt2-xl": "gpt2-xl",
  "distilbert/distilgpt2": "distilgpt2", "distilgpt2": "distilgpt2",
};

export interface ModelSpec {
  /** The lab's model id: "hooklab-demo", a hub id, or "local". */
  model: string;
  processing: "default" | "none";
  /** "f16": the lab held the weight matrices in f16 (default "f32"). */
  weights?: WeightPrecisionName;
  /** "ids": the prompt and answer boxes hold token ids, written as tensors (default "text"). */
  tokenInput?: TokenInput;
}

export interface AnswerPair {
  answer: string;
  wrong: string;
}

export type TlCodeSpec = ModelSpec & (
  | { view: "tokens"; prompt: string; prependBos: boolean }
  | { view: "predictions"; prompt: string; prependBos: boolean; topK: number; position: number | null }
  | { view: "norms"; prompt: string; prependBos: boolean }
  | { view: "attention"; prompt: string; prependBos: boolean; layer: number; head: number | null }
  | ({ view: "lens" | "dla"; prompt: string; prependBos: boolean; position: number | null } & AnswerPair)
  | { view: "detectors"; seqLen: number }
  | ({ view: "patching"; clean: string; corrupted: string; metric: MetricName; normalize: boolean; sweep: PatchSweep;
      method: PatchMethod } & AnswerPair)
  | ({ view: "dataset"; dataset: string; metric: MetricName; normalize: boolean; sweep: PatchSweep; method: PatchMethod;
      bootstrap: number; seed: number } & AnswerPair)
  | { view: "generate"; prompt: string; maxNewTokens: number; temperature: number; topK: number; topP: number; seed: number;
      steering?: GenerateSteering; ablation?: GenerateAblation }
  | ({ view: "path"; clean: string; corrupted: string; metric: MetricName; normalize: boolean; direction: PatchDirection;
      receivers: Array<[number, number, string]> } & AnswerPair)
);

/** The steered column's vector: two prompts' activations, or the unembedding / DLA direction of to (− from). */
export interface GenerateSteering {
  by?: "activations" | "unembed";
  hook: string;
  layer: number;
  coefficient: number;
  from: string;
  to: string;
}

/** Heads ablated in the steered column ([layer, head] each): zeroed, or set to their mean over the prompt. */
export interface GenerateAblation {
  heads: Array<[number, number]>;
  kind: "zero" | "mean";
}

export type TlView = TlCodeSpec["view"];
export const TL_VIEWS: readonly TlView[] = ["tokens", "predictions", "norms", "attention", "lens", "dla", "detectors", "patching",
  "dataset", "generate", "path"];

/**
 * A Python string literal equal to `s`: printable characters stay readable, everything else
 * (quotes, backslashes, line breaks, controls, unpaired surrogates, invisible code points) is an
 * escape, so the literal is one line and nothing in `s` can end it.
 */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const paired = unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const cp = paired ? s.codePointAt(i)! : unit;
    const ch = paired ? s.slice(i, i + 2) : s[i];
    if (paired) i++;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp >= 0xa0 && /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) && !(unit >= 0xd800 && unit <= 0xdfff && !paired)) out += ch;
    else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** A Python number literal (finite numbers only reach the lab's inputs). */
function pyNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
  return String(v);
}

function pyBool(v: boolean): string {
  return v ? "True" : "False";
}

// The lab's f16 weights: the processed matrices rounded to f16 once, everything computed in f32.
const ROUND_MATRICES_TO_F16 = [
  "# hooklab held the weight matrices in f16 (rounded once, after processing; all arithmetic in",
  "# float32). The same rounding here reproduces its numbers:",
  "with torch.no_grad():",
  "    for block in model.blocks:",
  "        for W in (block.attn.W_Q, block.attn.W_K, block.attn.W_V, block.attn.W_O, block.mlp.W_in, block.mlp.W_out):",
  "            W.copy_(W.to(torch.float16).to(torch.float32))",
  "    for W in (model.embed.W_E, model.unembed.W_U):",
  "        W.copy_(W.to(torch.float16).to(torch.float32))",
];

function loadModel(spec: ModelSpec): string[] {
  const tlName = TL_MODEL_NAMES[spec.model];
  if (tlName) {
    const loader = spec.processing === "none" ? "from_pretrained_no_processing" : "from_pretrained";
    return [`model = HookedTransformer.${loader}(${pyString(tlName)})`, ...(spec.weights === "f16" ? ROUND_MATRICES_TO_F16 : [])];
  }
  const where = spec.model === "local" ? "path/to/your/model" : spec.model.includes("/") ? spec.model : `models/${spec.model}`;
  const bundled = spec.model !== "local" && !spec.model.includes("/");
  return [
    "# Not on TransformerLens's list of official models: TransformerBridge (TransformerLens 3) loads any",
    "# GPT-2-architecture checkpoint and keeps HookedTransformer's hook names as aliases.",
    ...(bundled ? ["# The path below is the model's directory in the hooklab repository."] : []),
    "from transformer_lens.model_bridge import TransformerBridge",
    `model = TransformerBridge.boot_transformers(${pyString(where)})`,
    ...(spec.weights === "f16" ? ["# hooklab held the weight matrices in f16 (rounded once, after processing; all arithmetic in",
      "# float32), so its numbers differ from these by that rounding (docs/half-precision.md)."] : []),
  ];
}

function header(spec: ModelSpec, extraImports: string[] = []): string[] {
  return ["import torch", "from transformer_lens import HookedTransformer", ...extraImports, "", ...loadModel(spec)];
}

/** The selected position as Python (-1: the last token, as the lab's "last" default). */
function pyPosition(position: number | null): string {
  return position === null ? "-1" : pyNumber(position);
}

/** A box's ids in ids mode; undefined in text mode or when the box holds no ids (the lab says why). */
function boxIds(spec: ModelSpec, text: string): number[] | undefined {
  if (spec.tokenInput !== "ids") return undefined;
  const read = parseTokenIds(text, Number.MAX_SAFE_INTEGER);
  return "problem" in read ? undefined : read.ids;
}

/** Token ids as a [1, n] tensor, after the model's BOS when prependBos. */
function idsTensor(ids: number[], prependBos: boolean): string {
  const tensor = `torch.tensor([[${ids.join(", ")}]], dtype=torch.long)`;
  return prependBos ? `torch.cat([model.to_tokens(""), ${tensor}], dim=1)  # BOS first` : tensor;
}

/** A prompt box as tokens: to_tokens of the text, or the ids themselves. */
function tokensExpr(spec: ModelSpec, text: string): string {
  const ids = boxIds(spec, text);
  return ids ? idsTensor(ids, true) : `model.to_tokens(${pyString(text)})`;
}

/** An answer box as one token id. */
function answerExpr(spec: ModelSpec, text: string): string {
  const ids = boxIds(spec, text);
  return ids?.length === 1 ? pyNumber(ids[0]) : `model.to_single_token(${pyString(text)})`;
}

function promptCode(spec: ModelSpec, prompt: string, prependBos: boolean): string[] {
  const ids = boxIds(spec, prompt);
  if (ids) return [`tokens = ${idsTensor(ids, prependBos)}`];
  return [`prompt = ${pyString(prompt)}`, `tokens = model.to_tokens(prompt, prepend_bos=${pyBool(prependBos)})`];
}

function tokensCode(s: Extract<TlCodeSpec, { view: "tokens" }>): string[] {
  return [...header(s), "", ...promptCode(s, s.prompt, s.prependBos),
    'print(f"Tokens shape: {tokens.shape}")',
    'print(f"String tokens: {model.to_str_tokens(tokens)}")',
    "print(tokens[0].tolist())"];
}

function predictionsCode(s: Extract<TlCodeSpec, { view: "predictions" }>): string[] {
  return [...header(s), "", ...promptCode(s, s.prompt, s.prependBos),
    "logits = model(tokens)",
    `position = ${pyPosition(s.position)}`,
    "# Top-k next tokens at the position",
    "probs = torch.softmax(logits[0, position], dim=-1)",
    `top = probs.topk(${pyNumber(s.topK)})`,
    "for token_id, prob in zip(top.indices, top.values):",
    '    print(f"{model.to_string(token_id.unsqueeze(0))!r}: {prob.item():.4f}  logit {logits[0, position, token_id].item():.3f}")',
    "# Log-probability of each actual next token, and the mean next-token loss",
    "log_probs = logits[0, :-1].log_softmax(dim=-1)",
    "next_log_probs = log_probs.gather(-1, tokens[0, 1:, None])[:, 0]",
    "print(next_log_probs)",
    'print(f"Mean next-token loss: {model(tokens, return_type=\'loss\').item():.4f}")'];
}

function normsCode(s: Extract<TlCodeSpec, { view: "norms" }>): string[] {
  return [...header(s), "", ...promptCode(s, s.prompt, s.prependBos),
    "logits, cache = model.run_with_cache(tokens)",
    "for layer in range(model.cfg.n_layers):",
    '    resid = cache["resid_post", layer]',
    '    print(f"Layer {layer} residual norm: {resid.norm().item():.2f}  per position: {resid[0].norm(dim=-1).tolist()}")'];
}

function attentionCode(s: Extract<TlCodeSpec, { view: "attention" }>): string[] {
  const lines = [...header(s), "", ...promptCode(s, s.prompt, s.prependBos),
    `layer = ${pyNumber(s.layer)}`,
    "logits, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith(\"hook_pattern\"))",
    'pattern = cache["pattern", layer][0]  # [heads, query_pos, key_pos]',
    "str_tokens = model.to_str_tokens(tokens)"];
  if (s.head !== null) lines.push(`head = ${pyNumber(s.head)}`, "print(pattern[head])  # rows: query (destination), columns: key (source)");
  else lines.push("print(pattern.shape)");
  return lines;
}

/** The answer pair's direction and the final-LayerNorm-frozen attribution of a residual stack. */
function answerCode(s: ModelSpec & AnswerPair): string[] {
  return [`answer_token = ${answerExpr(s, s.answer)}`, `wrong_token = ${answerExpr(s, s.wrong)}`,
    "direction = model.tokens_to_residual_directions(answer_token) - model.tokens_to_residual_directions(wrong_token)"];
}

function lensCode(s: Extract<TlCodeSpec, { view: "lens" | "dla" }>): string[] {
  return [...header(s), "", ...promptCode(s, s.prompt, s.prependBos), ...answerCode(s),
    "logits, cache = model.run_with_cache(tokens)",
    `position = ${pyPosition(s.position)}`,
    "# The residual stream after each half-layer, through ln_final with each row's own statistics",
    "resid, labels = cache.accumulated_resid(layer=-1, incl_mid=True, apply_ln=True, pos_slice=position, return_labels=True)",
    "lens_logits = resid[:, 0] @ model.W_U + model.b_U  # [components, d_vocab]",
    "logit_diff = resid[:, 0] @ direction",
    "for label, diff, row in zip(labels, logit_diff, lens_logits):",
    '    top = [model.to_string(t.unsqueeze(0)) for t in row.topk(5).indices]',
    '    print(f"{label}: logit diff {diff.item():.3f} (with b_U {(diff + model.b_U[answer_token] - model.b_U[wrong_token]).item():.3f}), top-5 {top}")'];
}

function dlaCode(s: Extract<TlCodeSpec, { view: "lens" | "dla" }>): string[] {
  return [...header(s), "", ...promptCode(s, s.prompt, s.prependBos), ...answerCode(s),
    "logits, cache = model.run_with_cache(tokens)",
    `position = ${pyPosition(s.position)}`,
    "# Each layer's output (embed, pos_embed, attn_out, mlp_out), ln_final frozen at its cached scale",
    "components, labels = cache.decompose_resid(layer=-1, pos_slice=position, return_labels=True)",
    "layer_attribution = cache.apply_ln_to_stack(components, layer=-1, pos_slice=position)[:, 0] @ direction",
    "for label, value in zip(labels, layer_attribution):",
    '    print(f"{label}: {value.item():.4f}")',
    "# Each head (hook_result = z @ W_O, without b_O)",
    "heads = cache.stack_head_results(layer=-1, pos_slice=position)",
    "head_attribution = cache.apply_ln_to_stack(heads, layer=-1, pos_slice=position)[:, 0] @ direction",
    "print(head_attribution.reshape(model.cfg.n_layers, model.cfg.n_heads))",
    'print(f"Bias term b_U: {(model.b_U[answer_token] - model.b_U[wrong_token]).item():.4f}")'];
}

function detectorsCode(s: Extract<TlCodeSpec, { view: "detectors" }>): string[] {
  return [...header(s), "",
    "# A random sequence of ids in [1000, 10000), repeated once, after BOS (as Main_Demo does; the lab",
    "# draws its own random ids, so the scores agree in distribution, not digit for digit)",
    `seq_len = ${pyNumber(s.seqLen)}`,
    "random_tokens = torch.randint(1000, 10000, (1, seq_len), device=model.cfg.device)",
    "tokens = torch.cat([model.to_tokens(\"\"), random_tokens, random_tokens], dim=1)  # BOS first",
    "logits, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith(\"hook_pattern\"))",
    "# head_detector's detection patterns [query, key]: the previous token; an earlier copy of the",
    "# same token (duplicate); the token after that copy (induction)",
    "n = tokens.shape[1]",
    "same = torch.tril(tokens[0, :, None] == tokens[0, None, :], diagonal=-1).float()",
    "induction = torch.zeros(n, n, device=tokens.device)",
    "induction[:, 1:] = same[:, :-1]",
    "previous = torch.diag(torch.ones(n - 1, device=tokens.device), -1)",
    "detections = {\"previous token\": previous, \"duplicate token\": same, \"induction\": induction}",
    "for name, detection in detections.items():",
    "    # detect_head's error_measure=\"mul\": the share of each head's attention on the detection pattern",
    '    scores = torch.stack([(cache["pattern", layer][0] * detection).sum((-2, -1)) / cache["pattern", layer][0].sum((-2, -1))',
    "                          for layer in range(model.cfg.n_layers)])",
    "    print(name, scores)  # [n_layers, n_heads]",
    "# The demos' diagonal scores: mean attention along one diagonal of the pattern (a clean head: near 1;",
    "# \"mul\" induction stops at seq_len / (2 seq_len + 1), since the first copy has nothing to attend to)",
    "for name, offset in {\"previous token (diagonal)\": 1, \"induction (diagonal)\": seq_len - 1}.items():",
    '    scores = torch.stack([cache["pattern", layer][0].diagonal(-offset, dim1=-2, dim2=-1).mean(-1)',
    "                          for layer in range(model.cfg.n_layers)])",
    "    print(name, scores)  # [n_layers, n_heads]"];
}

export function tlCode(spec: TlCodeSpec): string {
  const lines = (() => {
    switch (spec.view) {
      case "tokens": return tokensCode(spec);
      case "predictions": return predictionsCode(spec);
      case "norms": return normsCode(spec);
      case "attention": return attentionCode(spec);
      case "lens": return lensCode(spec);
      case "dla": return dlaCode(spec);
      case "detectors": return detectorsCode(spec);
      case "patching": return patchingCode(spec);
      case "dataset": return datasetCode(spec);
      case "generate": return generateCode(spec);
      case "path": return pathCode(spec);
    }
  })();
  return `${lines.join("\n")}\n`;
}

// ---- activation patching, attribution patching, datasets ----

/** The metric as a Python function of the logits at the last position (the lab's metric position). */
function metricCode(metric: MetricName): string[] {
  const body: Partial<Record<MetricName, string>> = {
    logit_diff: "logits[0, -1, answer_token] - logits[0, -1, wrong_token]",
    prob: "logits[0, -1].softmax(dim=-1)[answer_token]",
    logprob: "logits[0, -1].log_softmax(dim=-1)[answer_token]",
    rank: "(logits[0, -1] > logits[0, -1, answer_token]).sum().float()",
  };
  const expr = body[metric];
  if (!expr) throw new Error(`the lab's views do not use the metric '${metric}'`);
  return [`def ${metric}(logits):`, `    return ${expr}`];
}

function patchingPrelude(s: ModelSpec & AnswerPair & { metric: MetricName; normalize: boolean }): string[] {
  return [`answer_token = ${answerExpr(s, s.answer)}`, `wrong_token = ${answerExpr(s, s.wrong)}`,
    ...metricCode(s.metric), "",
    `normalize = ${pyBool(s.normalize)}  # (patched - corrupted) / (clean - corrupted): 1 = fully restored`];
}

function exactSweep(sweep: PatchSweep): string[] {
  const fn = PATCH_SWEEPS.find((p) => p.name === sweep)!.tlFunction;
  return [`def sweep(corrupted_tokens, clean_cache, metric):`, `    return patching.${fn}(model, corrupted_tokens, clean_cache, metric)`];
}

/** Attribution patching: (clean - corrupted activation) . gradient of the metric on the corrupted run. */
function attributionHelpers(sweep: PatchSweep, method: PatchMethod): string[] {
  const { acts, cells } = SWEEP_CODE[sweep];
  const reduce = (act: string): string => {
    const perHead = act === "pattern"
      ? { layer_head: "x.sum((1, 2))", layer_pos_head: "x.sum(-1).T", layer_head_dest: "x.sum(-1)", layer_head_dest_src: "x" }
      : { layer_head: "x.sum((0, 2))", layer_pos_head: "x.sum(-1)" };
    const r = cells === "layer_pos" ? "x.sum(-1)" : (perHead as Record<string, string>)[cells];
    return `lambda x: ${r}`;
  };
  const star = (act: string) => method === "atp-star" && (act === "q" || act === "k");
  const term = (act: string) => star(act) ? `atp_star_qk(${pyString(act)}, by_pos=${pyBool(cells !== "layer_head")}, caches=caches)`
    : `attribute(${pyString(act)}, ${reduce(act)}, caches=caches)`;
  const lines = [
    "def run_fwd_and_bwd(tokens, metric):",
    '    """One forward and one backward pass: every activation and its gradient (Attribution_Patching_Demo)."""',
    "    acts, grads = {}, {}",
    "    model.reset_hooks()",
    '    model.add_hook(lambda name: not name.endswith("_input"), lambda t, hook: acts.__setitem__(hook.name, t.detach()), "fwd")',
    '    model.add_hook(lambda name: not name.endswith("_input"), lambda t, hook: grads.__setitem__(hook.name, t.detach()), "bwd")',
    "    value = metric(model(tokens))",
    "    value.backward()",
    "    model.reset_hooks()",
    "    return value.item(), ActivationCache(acts, model), ActivationCache(grads, model)",
    "",
    "def attribute(act, reduce, caches):",
    "    clean_cache, corrupted_cache, grad_cache = caches",
    "    return torch.stack([reduce((clean_cache[act, layer] - corrupted_cache[act, layer])[0] * grad_cache[act, layer][0])",
    "                        for layer in range(model.cfg.n_layers)])",
  ];
  if (acts.some(star)) lines.push("", ...qkFixHelpers());
  const stacked = acts.length > 1 ? `torch.stack([${acts.map(term).join(", ")}])` : term(acts[0]);
  lines.push("", "def sweep(clean_tokens, corrupted_tokens, metric):",
    "    _, clean_cache, _ = run_fwd_and_bwd(clean_tokens, metric)",
    "    _, corrupted_cache, grad_cache = run_fwd_and_bwd(corrupted_tokens, metric)",
    "    caches = (clean_cache, corrupted_cache, grad_cache)",
    `    return ${stacked}`);
  return lines;
}

/** AtP*'s QK fix: a patched query or key changes whole softmax rows, so recompute the pattern. */
function qkFixHelpers(): string[] {
  return [
    "def pattern_from(q, k):",
    '    """hook_pattern [heads, dest, src] from q, k [pos, heads, d_head]: scaled, causally masked, softmaxed."""',
    '    scores = torch.einsum("qhd,khd->hqk", q, k) / model.cfg.d_head ** 0.5',
    "    causal = torch.triu(torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device), diagonal=1)",
    '    return scores.masked_fill(causal, float("-inf")).softmax(dim=-1)',
    "",
    "def atp_star_qk(act, by_pos, caches):",
    "    clean_cache, corrupted_cache, grad_cache = caches",
    "    rows = []",
    "    for layer in range(model.cfg.n_layers):",
    '        q, k = corrupted_cache["q", layer][0], corrupted_cache["k", layer][0]',
    '        pattern, grad = corrupted_cache["pattern", layer][0], grad_cache["pattern", layer][0]',
    "        clean = clean_cache[act, layer][0]",
    "        cells = []",
    "        for pos in (range(q.shape[0]) if by_pos else [slice(None)]):",
    '            patched = (q if act == "q" else k).clone()',
    "            patched[pos] = clean[pos]",
    '            new = pattern_from(patched, k) if act == "q" else pattern_from(q, patched)',
    "            cells.append(((new - pattern) * grad).sum((1, 2)))  # one value per head",
    "        rows.append(torch.stack(cells) if by_pos else cells[0])",
    "    return torch.stack(rows)",
  ];
}

function sweepDefinition(sweep: PatchSweep, method: PatchMethod): string[] {
  // Specs may come from lesson files: names outside the closed sets are errors, never code.
  if (!Object.hasOwn(SWEEP_CODE, sweep)) throw new Error(`unknown patching sweep '${String(sweep).slice(0, 40)}'`);
  if (!["exact", "atp", "atp-star"].includes(method)) throw new Error(`unknown patching method '${String(method).slice(0, 40)}'`);
  return method === "exact" ? exactSweep(sweep) : attributionHelpers(sweep, method);
}

/** `result = ...` of one prompt pair (clean_tokens, corrupted_tokens), normalised as the lab does. */
function runPair(method: PatchMethod, metricName: MetricName, indent = ""): string[] {
  const call = method === "exact"
    ? `sweep(corrupted_tokens, clean_cache, ${metricName})` : `sweep(clean_tokens, corrupted_tokens, ${metricName})`;
  return [
    `${indent}clean_logits, clean_cache = model.run_with_cache(clean_tokens)`,
    `${indent}corrupted_logits = model(corrupted_tokens)`,
    `${indent}clean_value, corrupted_value = ${metricName}(clean_logits).item(), ${metricName}(corrupted_logits).item()`,
    `${indent}with torch.set_grad_enabled(${pyBool(method !== "exact")}):`,
    `${indent}    result = ${call}`,
    `${indent}if normalize:  # an estimate is of (patched - corrupted) already`,
    `${indent}    result = ${method === "exact" ? "(result - corrupted_value)" : "result"} / (clean_value - corrupted_value)`,
  ];
}

function imports(method: PatchMethod): string[] {
  return method === "exact" ? ["from transformer_lens import patching"] : ["from transformer_lens import ActivationCache"];
}

function patchingCode(s: Extract<TlCodeSpec, { view: "patching" }>): string[] {
  const what = s.method === "exact" ? "Activation patching" : `Attribution patching (${s.method === "atp" ? "AtP" : "AtP*"})`;
  return [...header(s, imports(s.method)), "",
    `clean_tokens = ${tokensExpr(s, s.clean)}`,
    `corrupted_tokens = ${tokensExpr(s, s.corrupted)}`,
    ...patchingPrelude(s), "",
    `# ${what}: ${s.sweep}, patching clean activations into the corrupted run`,
    ...sweepDefinition(s.sweep, s.method), "",
    ...runPair(s.method, s.metric),
    'print(f"clean {clean_value:.4f}, corrupted {corrupted_value:.4f}")',
    "print(result.shape)",
    "print(result)"];
}

/** Path patching as the IOI paper and ARENA write it: run A freezes every head but the sender, run B patches the receivers. */
function pathCode(s: Extract<TlCodeSpec, { view: "path" }>): string[] {
  const receivers = s.receivers.map(([l, h, input]) => {
    if (!(PATH_RECEIVER_INPUTS as readonly string[]).includes(input)) throw new Error(`not a receiver input: ${input}`);
    return `(${pyNumber(l)}, ${pyNumber(h)}, ${pyString(input)})`;
  });
  const noising = s.direction === "noising";
  return [...header(s, ["from functools import partial", "from transformer_lens import utils"]), "",
    `clean_tokens = ${tokensExpr(s, s.clean)}`,
    `corrupted_tokens = ${tokensExpr(s, s.corrupted)}`,
    ...patchingPrelude(s), "",
    `# Path patching (Wang et al. 2022), ${s.direction}: each sender head's effect through the receivers only`,
    `receivers = [${receivers.join(", ")}]  # (layer, head, "q" | "k" | "v"); empty: the logits`,
    `receiving_tokens, source_tokens = ${noising ? "clean_tokens, corrupted_tokens" : "corrupted_tokens, clean_tokens"}`,
    'is_z = lambda name: name.endswith("hook_z")',
    "receiving_logits, receiving_cache = model.run_with_cache(receiving_tokens, names_filter=is_z)",
    "source_logits, source_cache = model.run_with_cache(source_tokens, names_filter=is_z)",
    `clean_value, corrupted_value = ${s.metric}(${noising ? "receiving" : "source"}_logits).item(), ${s.metric}(${noising ? "source" : "receiving"}_logits).item()`,
    "",
    "def freeze_heads(z, hook, sender):",
    "    # every head at its receiving-run value, except the sender, which takes the source run's",
    "    z[:] = receiving_cache[hook.name]",
    "    if hook.layer() == sender[0]:",
    "        z[:, :, sender[1]] = source_cache[hook.name][:, :, sender[1]]",
    "    return z",
    "",
    "def patch_head(activation, hook, head, value):",
    "    activation[:, :, head] = value",
    "    return activation",
    "",
    "# a sender at or after the last receiver's layer cannot reach it: it reads the receiving run's metric",
    "reach = max(l for l, h, kind in receivers) if receivers else model.cfg.n_layers",
    `result = torch.full((model.cfg.n_layers, model.cfg.n_heads), ${s.metric}(receiving_logits).item())`,
    "for layer in range(reach):",
    "    for head in range(model.cfg.n_heads):",
    "        freeze = (is_z, partial(freeze_heads, sender=(layer, head)))",
    "        if not receivers:",
    "            logits = model.run_with_hooks(receiving_tokens, fwd_hooks=[freeze])",
    "        else:",
    "            names = [utils.get_act_name(kind, l) for l, h, kind in receivers]",
    "            with model.hooks(fwd_hooks=[freeze]):",
    "                _, frozen_cache = model.run_with_cache(receiving_tokens, names_filter=lambda name: name in names)",
    "            patches = [(utils.get_act_name(kind, l), partial(patch_head, head=h, value=frozen_cache[utils.get_act_name(kind, l)][:, :, h]))",
    "                       for l, h, kind in receivers]",
    "            logits = model.run_with_hooks(receiving_tokens, fwd_hooks=patches)",
    `        result[layer, head] = ${s.metric}(logits).item()`,
    "if normalize:",
    "    result = (result - corrupted_value) / (clean_value - corrupted_value)",
    "print(result)  # [sender layer, sender head]"];
}

function datasetCode(s: Extract<TlCodeSpec, { view: "dataset" }>): string[] {
  return [...header(s, ["import json", ...imports(s.method)]), "",
    "# One prompt pair per line: {\"clean\": ..., \"corrupted\": ..., \"answer\": ..., \"wrong\": ...}",
    `dataset = ${pyString(s.dataset)}`,
    "pairs = [json.loads(line) for line in dataset.splitlines() if line.strip()]",
    `normalize = ${pyBool(s.normalize)}`, "",
    ...sweepDefinition(s.sweep, s.method), "",
    "results = []",
    "for pair in pairs:",
    `    answer_token = model.to_single_token(pair.get("answer", ${pyString(s.answer)}))`,
    `    wrong_token = model.to_single_token(pair.get("wrong", ${pyString(s.wrong)}))`,
    ...metricCode(s.metric).map((l) => `    ${l}`),
    '    clean_tokens, corrupted_tokens = model.to_tokens(pair["clean"]), model.to_tokens(pair["corrupted"])',
    ...runPair(s.method, s.metric, "    "),
    "    results.append(result)",
    "results = torch.stack(results)  # [pairs, *cells]",
    "mean = results.mean(0)",
    "# 95 % bootstrap interval over pairs (the lab's generator differs, so the bounds agree to sampling error)",
    `generator = torch.Generator().manual_seed(${pyNumber(s.seed)})`,
    `samples = torch.randint(len(pairs), (${pyNumber(s.bootstrap)}, len(pairs)), generator=generator)`,
    "means = results[samples].mean(1)",
    "ci_low, ci_high = means.quantile(0.025, dim=0), means.quantile(0.975, dim=0)",
    "print(mean, ci_low, ci_high)"];
}

function generateCode(s: Extract<TlCodeSpec, { view: "generate" }>): string[] {
  const greedy = s.temperature === 0;
  const sampling = greedy ? "do_sample=False" : `do_sample=True, temperature=${pyNumber(s.temperature)}` +
    `${s.topK > 0 ? `, top_k=${pyNumber(s.topK)}` : ""}${s.topP < 1 ? `, top_p=${pyNumber(s.topP)}` : ""}`;
  const generate = `model.generate(prompt, max_new_tokens=${pyNumber(s.maxNewTokens)}, ${sampling}, verbose=False)`;
  const intervened = s.steering !== undefined || (s.ablation?.heads.length ?? 0) > 0;
  const lines = [...header(s, intervened ? ["from functools import partial", "from transformer_lens import utils"] : []), "",
    `prompt = ${boxIds(s, s.prompt) ? idsTensor(boxIds(s, s.prompt)!, true) : pyString(s.prompt)}`,
    `torch.manual_seed(${pyNumber(s.seed)})  # torch's sampler differs from the lab's: greedy (temperature 0) matches token for token`,
    `print(${generate})`];
  if (!intervened) return lines;
  const steering = s.steering ? steeringCode(s.steering) : [];
  const ablation = s.ablation && s.ablation.heads.length > 0 ? ablationCode(s.ablation) : [];
  const hooks = [...(steering.length ? ["(hook_name, steer)"] : []), ...(ablation.length ? ["*ablation_hooks"] : [])];
  return [...lines, ...steering, ...ablation, "",
    `torch.manual_seed(${pyNumber(s.seed)})`,
    `with model.hooks(fwd_hooks=[${hooks.join(", ")}]):`,
    `    print(${generate})`];
}

function steeringCode(st: GenerateSteering): string[] {
  if (st.by === "unembed") {
    const minus = st.from ? ` - model.W_U[:, model.to_single_token(${pyString(st.from)})]` : "";
    return ["",
      "# Steering along the unembedding direction of `to` (minus `from`'s: the DLA direction), unit length,",
      "# coefficient times it added at every position (the prompt's and each new token's)",
      `hook_name = utils.get_act_name(${pyString(st.hook)}, ${pyNumber(st.layer)})`,
      `direction = model.W_U[:, model.to_single_token(${pyString(st.to)})]${minus}`,
      `steering = ${pyNumber(st.coefficient)} * direction / direction.norm()`,
      "",
      "def steer(activation, hook):",
      "    return activation + steering",
    ];
  }
  return ["",
    "# Activation addition (Turner et al. 2023): coefficient * (acts(to) - acts(from)), both prompts padded",
    "# with \" \" to one length, added at the prompt's first positions",
    `hook_name = utils.get_act_name(${pyString(st.hook)}, ${pyNumber(st.layer)})`,
    `to_tokens, from_tokens = model.to_tokens(${pyString(st.to)}), model.to_tokens(${pyString(st.from)})`,
    "length = max(to_tokens.shape[1], from_tokens.shape[1])",
    "space = model.to_single_token(\" \")",
    "pad = lambda t: torch.cat([t, torch.full((1, length - t.shape[1]), space, device=t.device)], dim=1)",
    "_, to_cache = model.run_with_cache(pad(to_tokens), names_filter=hook_name)",
    "_, from_cache = model.run_with_cache(pad(from_tokens), names_filter=hook_name)",
    `steering = ${pyNumber(st.coefficient)} * (to_cache[hook_name] - from_cache[hook_name])`,
    "",
    "def steer(activation, hook):",
    "    if activation.shape[1] > 1:  # the prompt's forward pass; later steps see one new position (KV cache)",
    "        n = min(activation.shape[1], steering.shape[1])",
    "        activation[:, :n] += steering[:, :n]",
    "    return activation",
  ];
}

function ablationCode(ab: GenerateAblation): string[] {
  const heads = ab.heads.map(([l, h]) => `(${pyNumber(l)}, ${pyNumber(h)})`).join(", ");
  const mean = ab.kind === "mean";
  return ["",
    mean ? "# Mean ablation: each head's hook_z replaced by its mean over the prompt's positions (one unhooked run)"
      : "# Zero ablation: each head's hook_z set to zero at every position",
    `ablated_heads = [${heads}]`,
    ...(mean ? ['_, prompt_cache = model.run_with_cache(prompt, names_filter=lambda name: name.endswith("hook_z"))'] : []),
    "",
    "def ablate_head(z, hook, head):",
    mean ? "    z[:, :, head, :] = prompt_cache[hook.name][:, :, head, :].mean(dim=1, keepdim=True)"
      : "    z[:, :, head, :] = 0.0",
    "    return z",
    "",
    'ablation_hooks = [(utils.get_act_name("z", layer), partial(ablate_head, head=head)) for layer, head in ablated_heads]',
  ];
}

/** What a lab view shows, as a code spec: the experiment's own inputs (lessons call this too). */
export function specFromExperiment(e: Experiment, view: TlView,
  options: { sweep?: PatchSweep; seqLen?: number; pair?: AnswerPair } = {}): TlCodeSpec {
  const base = { model: e.model, processing: e.processing, weights: e.weights, tokenInput: e.tokenInput };
  const prompt = { prompt: e.prompt, prependBos: e.prependBos };
  // The inside views' pair as resolved (the prompt's top two predictions unless the user chose).
  const pair = options.pair ?? { answer: e.insideAnswer || e.answer, wrong: e.insideWrong || e.wrong };
  const patch = { answer: e.answer, wrong: e.wrong, metric: e.metric, normalize: e.normalize, method: e.method,
    sweep: options.sweep ?? e.sweeps[0] ?? "resid_pre" };
  switch (view) {
    case "tokens": case "norms": return { ...base, ...prompt, view };
    case "predictions": return { ...base, ...prompt, view, topK: e.topK, position: e.position };
    case "attention": return { ...base, ...prompt, view, layer: e.layer, head: e.head };
    case "lens": case "dla": return { ...base, ...prompt, ...pair, view, position: e.position };
    case "detectors": return { ...base, view, seqLen: options.seqLen ?? 50 };
    case "patching": return { ...base, ...patch, view, clean: e.clean, corrupted: e.corrupted };
    case "dataset": return { ...base, ...patch, view, dataset: e.dataset, bootstrap: 1000, seed: 1 };
    case "path": return { ...base, ...patch, view, clean: e.clean, corrupted: e.corrupted, direction: e.pathDirection,
      receivers: e.pathReceivers.map((r) => { const { layer, head, input } = receiverOf(r); return [layer, head, input]; }) };
    case "generate": return { ...base, view, prompt: e.genPrompt, maxNewTokens: e.maxNewTokens, temperature: e.temperature,
      topK: e.genTopK, topP: e.topP, seed: e.seed,
      steering: { by: e.steerBy, hook: e.steerHook, layer: e.steerLayer, coefficient: e.steerCoef, from: e.steerFrom, to: e.steerTo },
      ablation: { heads: e.ablateHeads.map((h) => h.split(".").map(Number) as [number, number]), kind: e.ablation } };
  }
}
