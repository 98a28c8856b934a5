// The lab's controller: turns the experiment (what the user asked for) into engine calls and
// keeps their results in the store. Views read the store and never compute model quantities.

import { HookedTransformer, type LoadProgress, type ModelConfig, type PatchResult, type Predictions } from "../engine";
import type { ComponentAttribution, HeadAttribution, HeadDetectorScores, LogitLens, ResidualNorms } from "../engine";
import { answerToken, promptTokens } from "./token-reader";
import { formatTokenIds, type TokenInput } from "../state/token-ids";
import { singleTokenCandidates, tokenDifferences } from "../analysis/token-display";
import { checkAgainstModel, checkPosition, defaultExperiment, MAX_ANSWER, MAX_TEXT, patchInputsKey, type Experiment, type SweepChoice } from "../state/experiment";
import { encodeExperiment } from "../state/url-state";
import { insideInputs, patchRunInputs, type InsideInputs, type PatchRunInputs } from "../state/result-inputs";
import { AttributionController, type AgreementState, type DatasetState, type EstimateState } from "./attribution-controller";
import { GenerateController, idleGenerateState, type GenerateColumnName, type GenerateState } from "./generate-controller";
import { TrainingController, type TrainingState } from "./training-controller";
import { PathController, idlePathState, type PathState } from "./path-controller";
import { Store } from "./store";
import type { BundledFile } from "./model-choices";

export interface Notice {
  kind: "warning" | "error";
  text: string;
  /** A button beside the text (e.g. Retry after a failed download). */
  action?: { label: string; run: () => void };
}

export interface TokenizedPrompt {
  ids: Int32Array;
  strs: string[];
}

/** The prompt's tokens with what they were tokenized from, so a reader can tell stale tokens. */
export interface PromptTokens extends TokenizedPrompt {
  text: string;
  prependBos: boolean;
}

export interface AnswerCheck {
  text: string;
  id?: number;
  error?: string;
  suggestions: string[];
}

/** The inside views' answer pair: chosen by the user, or the prompt's top two predictions. */
export interface InsidePair {
  answer: string;
  wrong: string;
  ids?: [number, number];
  source: "chosen" | "top-2";
  error?: string;
}

export interface InsideResults {
  prompt: string;
  /** What these results were computed from (stale when the experiment's differ). */
  inputs: InsideInputs;
  /** Token strings of that prompt (axis labels). */
  strs: string[];
  pair?: InsidePair;
  norms?: ResidualNorms;
  /** Per layer, hook_pattern [1, H, P, P]. */
  patterns?: Float32Array[];
  lens?: LogitLens;
  components?: ComponentAttribution;
  heads?: HeadAttribution;
  detectors?: HeadDetectorScores;
}

export interface PatchState {
  status: "idle" | "running" | "done" | "error" | "cancelled";
  progress: number;
  results: Partial<Record<SweepChoice, PatchResult>>;
  /** Token strings of the corrupted prompt (axis labels). */
  strTokens: string[];
  error?: string;
  /** patchInputsKey of the experiment the results were computed for. */
  key?: string;
  /** The inputs the results were computed from (stale when the experiment's differ). */
  inputs?: PatchRunInputs;
}

export interface LabState {
  experiment: Experiment;
  notices: Notice[];
  model: { phase: "idle" | "loading" | "ready" | "error"; progress?: LoadProgress; error?: string };
  cfg?: ModelConfig;
  variant?: "st" | "mt";
  prompt?: PromptTokens;
  predictions?: Predictions;
  inside?: InsideResults;
  clean?: TokenizedPrompt;
  corrupted?: TokenizedPrompt;
  difference?: { positions: number[]; lengthMismatch: boolean };
  answer?: AnswerCheck;
  wrong?: AnswerCheck;
  patch: PatchState;
  /** Attribution estimates that follow the prompts (method atp / atp-star). */
  estimate?: EstimateState;
  /** Estimate vs exact, per sweep, once both exist for the same inputs. */
  agreement?: AgreementState;
  dataset: DatasetState;
  /** The Generate panel's two continuations (unsteered, steered). */
  generate: GenerateState;
  /** A bundled model's training record and the head detectors at its checkpoints. */
  training: TrainingState;
  /** Path patching: every sender head through the chosen receivers. */
  path: PathState;
  busy: Set<string>;
}

export interface LabOptions {
  assetBase?: string;
  hubEndpoint?: string;
  singleThreaded?: boolean;
  /** Whether a bundled model ships an optional file (the lab's list, app/model-choices.ts), so
   *  that the others are not asked for it (no 404 in the console); unset: every one is asked. */
  shipsFile?: (model: string, file: BundledFile) => boolean;
}

export class LabController {
  readonly store: Store<LabState>;
  readonly attribution: AttributionController<LabState>;
  readonly generator: GenerateController<LabState>;
  readonly training: TrainingController<LabState>;
  readonly path: PathController<LabState>;
  private model?: HookedTransformer;
  private loadAbort?: AbortController;
  private patchAbort?: AbortController;
  private promptTimer?: ReturnType<typeof setTimeout>;
  private patchInputsTimer?: ReturnType<typeof setTimeout>;
  private generation = 0;
  /** The experiment's model id of this.model (the picker's value to go back to). */
  private loadedId?: string;

  constructor(experiment: Experiment, notices: Notice[], private readonly options: LabOptions = {}) {
    this.store = new Store<LabState>({
      experiment, notices, model: { phase: "idle" }, busy: new Set(),
      patch: { status: "idle", progress: 0, results: {}, strTokens: [] }, dataset: { status: "idle", results: {} },
      generate: idleGenerateState(), training: { status: "none", scores: [] }, path: idlePathState(),
    });
    this.attribution = new AttributionController(this.store, () => this.model);
    this.generator = new GenerateController(this.store, () => this.model);
    this.path = new PathController(this.store, () => this.model, () => this.patchBlocker({ needsSweeps: false }),
      () => this.patchInputsSettled());
    this.training = new TrainingController(this.store, { assetBase: options.assetBase, model: () => this.model,
      tokenPool: () => this.tokenPool(), shipsFile: options.shipsFile });
  }

  get state(): Readonly<LabState> {
    return this.store.get();
  }

  /** The loaded engine (lesson questions compute their answers on it); undefined while loading. */
  get loadedModel(): HookedTransformer | undefined {
    return this.model;
  }

  /** Extra fragment parameters a shared link carries beside the experiment (an open lesson's). */
  fragmentExtras: () => string = () => "";

  /** The shareable URL of the current experiment (fragment state). */
  shareUrl(base = location.href): string {
    const url = new URL(base);
    url.search = "";
    url.hash = encodeExperiment(this.state.experiment) + this.fragmentExtras();
    return url.href;
  }

  notify(notice: Notice): void {
    this.store.set({ notices: [...this.state.notices, notice] });
  }

  dismissNotices(): void {
    this.store.set({ notices: [] });
  }

  /** Applies a change of the experiment and recomputes what depends on it. */
  update(patch: Partial<Experiment>): void {
    const before = this.state.experiment;
    const experiment = { ...before, ...patch };
    this.store.set({ experiment });
    const reload = (["model", "processing", "weights"] as const).some((k) => patch[k] !== undefined && patch[k] !== before[k]);
    if (reload) {
      void this.loadModel();
      return;
    }
    // A link opened in this page (hashchange) may name a layer or head this model lacks.
    if (this.model && ("layer" in patch || "head" in patch || "steerLayer" in patch || "ablateHeads" in patch || "pathReceivers" in patch)) {
      this.checkModelRanges();
    }
    if ("prompt" in patch || "prependBos" in patch || "topK" in patch || "tokenInput" in patch) this.schedulePrompt();
    const patchTexts = ["answer", "wrong", "clean", "corrupted", "tokenInput"] as const;
    if (patchTexts.some((k) => k in patch) && this.model) this.schedulePatchInputs();
    const estimateInputs = ["clean", "corrupted", "answer", "wrong", "metric", "normalize", "sweeps", "method", "tokenInput"] as const;
    if (this.model && estimateInputs.some((k) => k in patch && patch[k] !== before[k])) this.attribution.scheduleEstimate();
    // A new prompt reaches the inside view through refreshPrompt, once its tokens exist.
    if (("view" in patch || "insideAnswer" in patch || "insideWrong" in patch || "position" in patch) && experiment.view === "inside") {
      this.scheduleInside();
    }
  }

  async loadModel(): Promise<void> {
    const { model, processing, weights } = this.state.experiment;
    this.loadAbort?.abort();
    this.loadAbort = new AbortController();
    const generation = ++this.generation;
    // The loaded model stays aside until the new one is ready: a failed or cancelled load
    // (offline, blocked hub) goes back to it instead of leaving every pane waiting.
    const previous = this.model ? { model: this.model, id: this.loadedId! } : undefined;
    this.model = undefined;
    this.attribution.reset();
    this.generator.reset();
    this.path.reset();
    this.store.set({ model: { phase: "loading" }, cfg: undefined, prompt: undefined, predictions: undefined, inside: undefined,
      patch: { status: "idle", progress: 0, results: {}, strTokens: [] } });
    if (model === "local") {
      previous?.model.dispose();
      this.store.set({ model: { phase: "error", error: "this link used local model files, which cannot travel in a link; open them again (Open files…) or pick a model" } });
      return;
    }
    try {
      const source = model.includes("/") ? { hub: model } : { bundled: model };
      let notKept: string | undefined;  // said once the model is in use, not beside a failed load
      const loaded = await HookedTransformer.load(source, {
        processing, weights, assetBase: this.options.assetBase, hubEndpoint: this.options.hubEndpoint,
        singleThreaded: this.options.singleThreaded, signal: this.loadAbort.signal,
        onProgress: (progress) => {
          if (generation !== this.generation) return;
          if (progress.notStored) notKept = `${progress.file ?? model}: ${progress.notStored}.`;
          this.store.set({ model: { phase: "loading", progress } });
        },
      });
      previous?.model.dispose();
      if (generation !== this.generation) return loaded.dispose();
      if (notKept) this.notify({ kind: "warning", text: notKept });
      await this.adopt(loaded, model);
    } catch (e) {
      if (generation !== this.generation) return previous?.model.dispose();
      const message = (e as Error).name === "AbortError" ? "loading was cancelled" : (e as Error).message;
      if (!previous) return this.store.set({ model: { phase: "error", error: message } });
      this.notify({ kind: "error", text: `Could not load ${model}: ${message}. Still using ${previous.id}.`,
        action: { label: "Retry", run: () => this.update({ model }) } });
      this.store.set({ experiment: { ...this.state.experiment, model: previous.id } });
      await this.adopt(previous.model, previous.id);
    }
  }

  /** Makes `loaded` the lab's model, follows its engine through crashes and recomputes every pane from it. */
  private async adopt(loaded: HookedTransformer, id: string): Promise<void> {
    this.model = loaded;
    this.loadedId = id;
    this.store.set({ model: { phase: "ready" }, cfg: loaded.cfg, variant: loaded.variant });
    this.checkModelRanges();
    loaded.onEngineCrash(({ reason, recovered }) => void this.recoverFromCrash(loaded, reason, recovered));
    await Promise.all([this.refreshPrompt(), this.refreshPatchInputs(), this.attribution.refreshEstimate(),
      this.training.open(id)]);
  }

  /** Loads a model from files the user picked or dropped (not restorable from a link). */
  async loadFiles(files: import("../engine").ModelFileSet): Promise<void> {
    this.loadAbort?.abort();
    const generation = ++this.generation;
    this.model?.dispose();
    this.model = undefined;
    this.attribution.reset();
    this.generator.reset();
    this.store.set({ experiment: { ...this.state.experiment, model: "local" }, model: { phase: "loading" }, cfg: undefined,
      prompt: undefined, predictions: undefined, inside: undefined });
    try {
      const loaded = await HookedTransformer.load({ files }, {
        processing: this.state.experiment.processing, weights: this.state.experiment.weights, assetBase: this.options.assetBase,
        singleThreaded: this.options.singleThreaded,
        onProgress: (progress) => generation === this.generation && this.store.set({ model: { phase: "loading", progress } }),
      });
      if (generation !== this.generation) return loaded.dispose();
      await this.adopt(loaded, "local");
    } catch (e) {
      if (generation === this.generation) this.store.set({ model: { phase: "error", error: (e as Error).message } });
    }
  }

  /**
   * The engine died (out of memory, a wasm trap, killed): say so, wait for the fresh engine to
   * reload the model, then recompute what the page shows. The experiment is never touched.
   */
  private async recoverFromCrash(model: HookedTransformer, reason: string, recovered: Promise<void>): Promise<void> {
    if (model !== this.model) return;
    this.notify({ kind: "error", text: `The engine stopped: ${reason}. A fresh engine was started and the model is being reloaded; your experiment is kept.` });
    this.store.set({ model: { phase: "loading" } });
    this.patchAbort?.abort();
    try {
      await recovered;
    } catch (e) {
      if (model === this.model) this.store.set({ model: { phase: "error", error: `the model could not be reloaded after the engine stopped: ${(e as Error).message}` } });
      return;
    }
    if (model !== this.model) return;
    this.store.set({ model: { phase: "ready" } });
    if (this.state.experiment.view === "inside") this.scheduleInside();
    await Promise.all([this.refreshPrompt(), this.refreshPatchInputs(), this.attribution.refreshEstimate()]);
  }

  /** A link's layer or head past the loaded model's: a notice naming the field, and its default. */
  private checkModelRanges(): void {
    const { fixes, problems } = checkAgainstModel(this.state.experiment, this.model!.cfg);
    if (problems.length === 0) return;
    this.store.set({ experiment: { ...this.state.experiment, ...fixes } });
    for (const p of problems) this.notify({ kind: "warning", text: `Could not restore: ${p}; the default is shown.` });
  }

  cancelLoad(): void {
    this.loadAbort?.abort();
  }

  private schedulePrompt(): void {
    clearTimeout(this.promptTimer);
    this.promptTimer = setTimeout(() => void this.refreshPrompt(), 200);
  }

  private schedulePatchInputs(): void {
    clearTimeout(this.patchInputsTimer);
    this.patchInputsPending = true;
    this.patchInputsTimer = setTimeout(() => {
      this.patchInputsPending = false;
      void this.refreshPatchInputs();
    }, 200);
  }

  private patchInputsPending = false;

  /**
   * Resolves once the prompt pair and answers in the store belong to the experiment (no edit
   * waiting to be tokenized), or after `timeoutMs`: a run started right after an edit (a lesson's
   * Show button) then reads the new prompts, not "tokenizing…" or the old ones.
   */
  patchInputsSettled(timeoutMs = 15_000): Promise<void> {
    const settled = () => !this.patchInputsPending && !this.state.busy.has("patch-inputs");
    if (settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stop();
        clearTimeout(timer);
        resolve();
      };
      const stop = this.store.subscribe(() => settled() && done());
      const timer = setTimeout(done, timeoutMs);
    });
  }

  private insideTimer?: ReturnType<typeof setTimeout>;
  private scheduleInside(): void {
    clearTimeout(this.insideTimer);
    this.insideTimer = setTimeout(() => void this.refreshInside(), 250);
  }

  private async track<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    const busy = new Set(this.state.busy);
    busy.add(what);
    this.store.set({ busy });
    try {
      return await work();
    } catch (e) {
      this.notify({ kind: "error", text: (e as Error).message });
      return undefined;
    } finally {
      const after = new Set(this.state.busy);
      after.delete(what);
      this.store.set({ busy: after });
    }
  }

  /**
   * Switches how the prompt and answer boxes are read, rewriting each box in the new form (text
   * as its token ids without BOS, ids as their decoded text) so the experiment stays the same;
   * a box that cannot be converted (an id out of range, say) is kept as typed.
   */
  async setTokenInput(mode: TokenInput): Promise<void> {
    const e = this.state.experiment;
    if (mode === e.tokenInput) return;
    const model = this.model;
    if (!model) {
      this.update({ tokenInput: mode });
      return;
    }
    const boxes = ["prompt", "clean", "corrupted", "answer", "wrong", "insideAnswer", "insideWrong", "genPrompt"] as const;
    // Ids take more characters than text: a box that would outgrow what a link holds stays as typed.
    const convert = async (text: string, limit: number): Promise<string> => {
      if (text === "") return text;
      try {
        const out = mode === "ids" ? formatTokenIds(await model.toTokens(text, { prependBos: false }))
          : await model.toString(await promptTokens(model, "ids", text, false));
        return out.length <= limit ? out : text;
      } catch {
        return text;
      }
    };
    const converted = await Promise.all(boxes.map((k) => convert(e[k], k.endsWith("nswer") || k.endsWith("rong") ? MAX_ANSWER : MAX_TEXT)));
    if (model !== this.model || this.state.experiment.tokenInput !== e.tokenInput) return;
    const patch: Partial<Experiment> = { tokenInput: mode, position: null };
    boxes.forEach((k, i) => (patch[k] = converted[i]));
    this.update(patch);
  }

  async refreshPrompt(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const { prompt: text, prependBos, topK, tokenInput } = this.state.experiment;
    const stale = () => {
      const e = this.state.experiment;
      return e.prompt !== text || e.prependBos !== prependBos || e.tokenInput !== tokenInput || model !== this.model;
    };
    await this.track("prompt", async () => {
      if (!text && !prependBos) {
        this.store.set({ prompt: undefined, predictions: undefined });
        return;
      }
      const ids = await promptTokens(model, tokenInput, text, prependBos);
      if (ids.length > model.cfg.n_ctx) {
        const strs = await model.toStrTokens(ids);
        if (stale()) return;
        this.store.set({ prompt: { text, prependBos, ids, strs }, predictions: undefined });
        throw new Error(`The prompt is ${ids.length} tokens; this model reads at most ${model.cfg.n_ctx} (n_ctx). Shorten it.`);
      }
      const [strs, predictions] = await Promise.all([model.toStrTokens(ids), model.predictions(ids, { k: topK })]);
      if (stale()) return;
      const outOfRange = checkPosition(this.state.experiment.position, ids.length);
      if (outOfRange) {
        this.store.set({ experiment: { ...this.state.experiment, position: null } });
        this.notify({ kind: "warning", text: `Could not restore: ${outOfRange}; the last token is shown.` });
      }
      const before = this.state.prompt;
      this.store.set({ prompt: { text, prependBos, ids, strs }, predictions });
      // New tokens (not just a new top-k) make every inside result stale.
      if (this.state.experiment.view === "inside" && (before?.text !== text || before.prependBos !== prependBos)) {
        this.scheduleInside();
      }
    });
  }

  async refreshInside(): Promise<void> {
    const model = this.model;
    const prompt = this.state.prompt;
    if (!model || !prompt || prompt.ids.length > model.cfg.n_ctx) return;
    const e = this.state.experiment;
    // The experiment's prompt (e.g. the clean prompt a patching cell opened at one of its
    // positions) is still being tokenized: refreshPrompt runs this again when its tokens exist.
    if (prompt.text !== e.prompt || prompt.prependBos !== e.prependBos) return;
    const current = () => model === this.model && this.state.prompt === prompt;
    const inputs = insideInputs(e);
    // Each result is shown as soon as it exists: attention first, the slower views after. Results
    // of the same prompt stay until replaced; they are marked stale by what changed since.
    const merge = (part: Partial<InsideResults>) => {
      if (!current()) return;
      const kept = this.state.inside?.prompt === e.prompt ? this.state.inside : undefined;
      this.store.set({ inside: { ...kept, prompt: e.prompt, strs: prompt.strs, ...part, inputs } });
    };
    await this.track("inside", async () => {
      const ids = prompt.ids;
      const position = e.position ?? ids.length - 1;
      const detectors = this.state.inside?.detectors;
      const [norms, run, pair] = await Promise.all([model.residualNorms(ids), model.runWithCache(ids, { namesFilter: /hook_pattern$/ }),
        this.insidePair(model, ids, position, e)]);
      merge({ norms, patterns: Array.from({ length: model.cfg.n_layers }, (_, l) => run.cache.get("pattern", l).data), detectors, pair,
        lens: undefined, components: undefined, heads: undefined });
      const pairs: Array<[number, number]> = pair.ids ? [pair.ids] : [];
      const positions = Array.from({ length: ids.length }, (_, i) => i);
      merge({ lens: await model.logitLens(ids, { positions, answers: pairs, k: 5 }) });
      if (pairs.length) {
        const [components, heads] = await Promise.all([model.componentAttribution(ids, pairs, position), model.headAttribution(ids, pairs, position)]);
        merge({ components, heads });
      }
      if (!detectors) {
        const tokenPool = await this.tokenPool();
        merge({ detectors: await model.detectHeads({ seqLen: Math.min(50, Math.floor((model.cfg.n_ctx - 1) / 2)), tokenPool }) });
      }
    });
  }

  /**
   * The inside views' answer pair: the user's, else the prompt's top two predictions at the
   * position (a chosen answer with no wrong token pairs with the best other prediction).
   */
  private async insidePair(model: HookedTransformer, ids: Int32Array, position: number, e: Experiment): Promise<InsidePair> {
    const source = e.insideAnswer || e.insideWrong ? "chosen" : "top-2";
    try {
      const chosen = await Promise.all([e.insideAnswer, e.insideWrong].map((t) => (t ? answerToken(model, e.tokenInput, t) : undefined)));
      const top = (await model.predictions(ids, { k: 3 })).top[position].filter((t) => !chosen.includes(t.token));
      const [answer, wrong] = [chosen[0] ?? top.shift()!.token, chosen[1] ?? top.shift()!.token];
      const [answerText, wrongText] = await Promise.all([model.toString([answer]), model.toString([wrong])]);
      return { answer: answerText, wrong: wrongText, ids: [answer, wrong], source };
    } catch (err) {
      return { answer: e.insideAnswer, wrong: e.insideWrong, source, error: (err as Error).message };
    }
  }

  /**
   * A bundled model trained on part of the vocabulary ships the ids it knows
   * (eval/trained_token_ids.json); random sequences for head detection draw from them.
   */
  async tokenPool(): Promise<number[] | undefined> {
    const name = this.state.experiment.model;
    if (name.includes("/") || name === "local") return undefined;
    if (!(this.options.shipsFile?.(name, "eval/trained_token_ids.json") ?? true)) return undefined;
    try {
      const base = this.options.assetBase ?? new URL("./", location.href).href;
      const response = await fetch(new URL(`models/${name}/eval/trained_token_ids.json`, base));
      if (!response.ok) return undefined;
      const ids = (await response.json()) as unknown;
      const list = Array.isArray(ids) ? ids : (ids as { ids?: unknown }).ids;
      return Array.isArray(list) && list.every((x) => Number.isInteger(x)) ? (list as number[]).filter((x) => x !== 50256) : undefined;
    } catch {
      return undefined;
    }
  }

  private async checkAnswer(text: string, mode: TokenInput): Promise<AnswerCheck> {
    const model = this.model!;
    try {
      return { text, id: await answerToken(model, mode, text), suggestions: [] };
    } catch (e) {
      const suggestions: string[] = [];
      for (const candidate of mode === "text" ? singleTokenCandidates(text) : []) {
        try {
          await model.toSingleToken(candidate);
          suggestions.push(candidate);
        } catch {
          /* not a single token either */
        }
      }
      return { text, error: (e as Error).message, suggestions: suggestions.slice(0, 4) };
    }
  }

  async refreshPatchInputs(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const e = this.state.experiment;
    await this.track("patch-inputs", async () => {
      const [cleanIds, corruptedIds, answer, wrong] = await Promise.all([
        promptTokens(model, e.tokenInput, e.clean), promptTokens(model, e.tokenInput, e.corrupted),
        this.checkAnswer(e.answer, e.tokenInput), this.checkAnswer(e.wrong, e.tokenInput)]);
      const [cleanStrs, corruptedStrs] = await Promise.all([model.toStrTokens(cleanIds), model.toStrTokens(corruptedIds)]);
      if (model !== this.model) return;
      this.store.set({
        clean: { ids: cleanIds, strs: cleanStrs }, corrupted: { ids: corruptedIds, strs: corruptedStrs },
        difference: tokenDifferences(cleanIds, corruptedIds), answer, wrong,
      });
    });
  }

  /** Why the patching experiment cannot run yet, or undefined when it can. */
  patchBlocker({ needsSweeps = true } = {}): string | undefined {
    const s = this.state;
    if (!this.model) return "the model is not loaded";
    if (!s.clean || !s.corrupted) return "tokenizing…";
    if (s.difference?.lengthMismatch) {
      return `clean and corrupted prompts must have the same number of tokens (${s.clean.ids.length} vs ${s.corrupted.ids.length})`;
    }
    if (s.clean.ids.length > this.model.cfg.n_ctx) return `the prompts are longer than n_ctx = ${this.model.cfg.n_ctx} tokens`;
    if (s.answer?.error) return `answer: ${s.answer.error}`;
    if (s.wrong?.error && s.experiment.metric === "logit_diff") return `wrong token: ${s.wrong.error}`;
    if (needsSweeps && s.experiment.sweeps.length === 0) return "choose at least one activation to patch";
    return undefined;
  }

  async runPatch(): Promise<void> {
    const blocker = this.patchBlocker();
    const model = this.model;
    if (blocker || !model) {
      if (blocker) this.notify({ kind: "warning", text: `Cannot run the patching experiment: ${blocker}.` });
      return;
    }
    const e = this.state.experiment;
    this.patchAbort?.abort();
    const abort = (this.patchAbort = new AbortController());
    const sweeps = [...e.sweeps];
    const results: Partial<Record<SweepChoice, PatchResult>> = {};
    const strTokens = this.state.corrupted!.strs;
    const key = patchInputsKey(e), inputs = patchRunInputs(e);
    this.store.set({ patch: { status: "running", progress: 0, results, strTokens, key, inputs } });
    void this.attribution.refreshAgreement();
    try {
      // One patch session: the prompts run once, and the cells of every sweep share the chunks.
      const computed = await model.patchItems({
        items: sweeps.map((sweep) => ({ sweep, method: "exact" as const })),
        clean: this.state.clean!.ids, corrupted: this.state.corrupted!.ids,
        answers: [[this.state.answer!.id!, this.state.wrong?.id ?? this.state.answer!.id!]],
        metric: e.metric, normalize: e.normalize,
      }, {
        signal: abort.signal,
        onProgress: (f) => this.store.set({ patch: { status: "running", progress: f, results, strTokens, key, inputs } }),
      });
      sweeps.forEach((sweep, i) => (results[sweep] = computed[i]));
      this.store.set({ patch: { status: "done", progress: 1, results: { ...results }, strTokens, key, inputs } });
      await this.attribution.refreshAgreement();
    } catch (err) {
      const cancelled = (err as Error).name === "AbortError";
      this.store.set({ patch: { status: cancelled ? "cancelled" : "error", progress: 0, results: { ...results }, strTokens, key, inputs,
        error: cancelled ? undefined : (err as Error).message } });
    }
  }

  cancelPatch(): void {
    this.patchAbort?.abort();
  }

  /** A patching cell was clicked: look inside that layer at that position. */
  inspect(layer: number, position: number | null): void {
    this.update({ view: "inside", layer, position, prompt: this.state.experiment.clean });
  }

  /**
   * A generated token was clicked: its step's predictions ("predict") or the inside views
   * ("inside") on the prompt and the tokens generated before it, i.e. the sequence the step
   * predicted from (as text: the lab's prompt is text, so it is tokenized again; the views run
   * the plain model, without the column's steering or ablations).
   */
  inspectGenerated(column: GenerateColumnName, index: number, view: "predict" | "inside"): void {
    const g = this.state.generate;
    const steps = g.columns[column].steps.slice(0, index);
    const prompt = (g.inputs?.genPrompt ?? this.state.experiment.genPrompt) + steps.map((s) => s.str).join("");
    if (prompt.length > MAX_TEXT) {
      this.notify({ kind: "warning", text: `That step's text is ${prompt.length} characters, more than a prompt holds (${MAX_TEXT}).` });
      return;
    }
    this.update({ view, prompt, position: null, insideAnswer: "", insideWrong: "" });
  }

  reset(): void {
    this.store.set({ experiment: defaultExperiment() });
    void this.loadModel();
  }
}
