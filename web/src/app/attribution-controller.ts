// Attribution patching in the lab: estimates (AtP, AtP*) of every chosen sweep that follow the
// prompts as they are edited, their agreement with the exact sweep once Run has computed it,
// and sweeps over a pasted dataset of prompt pairs. Views read the store; nothing here renders.

import { answerToken, promptTokens } from "./token-reader";
import type { AttributionMethod, DatasetResult, HookedTransformer, PatchMethod, PatchResult, SweepAgreement } from "../engine";
import { MAX_DATASET, patchInputsKey, type Experiment, type SweepChoice } from "../state/experiment";
import type { Store } from "./store";
import { datasetInputs, type DatasetInputs } from "../state/result-inputs";

/** Milliseconds of quiet after an edit before the estimate is recomputed. */
export const ESTIMATE_DEBOUNCE_MS = 300;

export interface EstimateState {
  status: "running" | "done" | "error";
  /** patchInputsKey of the experiment the results belong to (stale when it differs). */
  key: string;
  method: PatchMethod;
  results: Partial<Record<SweepChoice, PatchResult>>;
  /** Corrupted prompt and its tokens the results were computed from (axis labels). */
  corrupted: string;
  strTokens: string[];
  error?: string;
}

export interface AgreementState {
  key: string;
  method: PatchMethod;
  bySweep: Partial<Record<SweepChoice, SweepAgreement>>;
}

export interface DatasetState {
  status: "idle" | "running" | "done" | "error" | "cancelled";
  results: Partial<Record<SweepChoice, DatasetResult>>;
  method?: PatchMethod;
  error?: string;
  /** While running: the share of every chosen sweep over every pair that is done. */
  progress?: number;
  /** The inputs the results were computed from (stale when the experiment's differ). */
  inputs?: DatasetInputs;
}

/** The part of the lab's state this controller owns. */
export interface AttributionSlice {
  experiment: Experiment;
  estimate?: EstimateState;
  agreement?: AgreementState;
  dataset: DatasetState;
  patch: { status: string; key?: string; results: Partial<Record<SweepChoice, PatchResult>> };
}

export class AttributionController<S extends AttributionSlice> {
  private timer?: ReturnType<typeof setTimeout>;
  private estimateAbort?: AbortController;
  private datasetAbort?: AbortController;

  constructor(private readonly store: Store<S>, private readonly model: () => HookedTransformer | undefined) {}

  private get state(): Readonly<S> {
    return this.store.get();
  }

  private set(patch: Partial<AttributionSlice>): void {
    this.store.set(patch as Partial<S>);
  }

  /** An edit happened: a newer estimate supersedes any pending or running one. */
  scheduleEstimate(): void {
    clearTimeout(this.timer);
    this.estimateAbort?.abort();
    if (this.state.experiment.method === "exact") {
      this.set({ estimate: undefined, agreement: undefined });
      return;
    }
    this.timer = setTimeout(() => void this.refreshEstimate(), ESTIMATE_DEBOUNCE_MS);
  }

  /** Answer ids for the experiment; prob/logprob/rank read only the first, so a bad wrong token is no obstacle. */
  private async answerIds(model: HookedTransformer, e: Experiment): Promise<Array<[number, number]>> {
    const answer = await answerToken(model, e.tokenInput, e.answer);
    const wrong = await answerToken(model, e.tokenInput, e.wrong).catch((err: Error) => {
      if (e.metric === "logit_diff") throw new Error(`wrong token: ${err.message}`);
      return answer;
    });
    return [[answer, wrong]];
  }

  async refreshEstimate(): Promise<void> {
    const model = this.model();
    const e = this.state.experiment;
    if (!model || e.method === "exact") return;
    this.estimateAbort?.abort();
    const abort = (this.estimateAbort = new AbortController());
    const live = () => !abort.signal.aborted && model === this.model();
    const key = patchInputsKey(e);
    const previous = this.state.estimate;
    this.set({ estimate: previous ? { ...previous, status: "running" } : { status: "running", key, method: e.method, results: {}, corrupted: e.corrupted, strTokens: [] } });
    try {
      const [clean, corrupted] = await Promise.all([promptTokens(model, e.tokenInput, e.clean), promptTokens(model, e.tokenInput, e.corrupted)]);
      if (clean.length !== corrupted.length) throw new Error(`the prompts tokenize to different lengths (${clean.length} vs ${corrupted.length})`);
      if (clean.length > model.cfg.n_ctx) throw new Error(`the prompts are longer than n_ctx = ${model.cfg.n_ctx} tokens`);
      if (e.sweeps.length === 0) throw new Error("choose at least one activation to patch");
      const answers = await this.answerIds(model, e);
      const sweeps = [...e.sweeps];
      const list = await model.attribute({ clean, corrupted, answers, metric: e.metric, normalize: e.normalize, method: e.method as AttributionMethod, sweeps },
        { signal: abort.signal });
      const strTokens = await model.toStrTokens(corrupted);
      if (!live()) return;
      const results: Partial<Record<SweepChoice, PatchResult>> = {};
      sweeps.forEach((s, i) => (results[s] = list[i]));
      this.set({ estimate: { status: "done", key, method: e.method, results, corrupted: e.corrupted, strTokens } });
      await this.refreshAgreement();
    } catch (err) {
      if (!live()) return;
      // Results of other prompts are dropped with the error: never show them under new labels.
      this.set({ estimate: { status: "error", key, method: e.method, results: {}, corrupted: e.corrupted, strTokens: [], error: (err as Error).message } });
    }
  }

  /** Pearson, Spearman and top-k overlap per sweep, when an estimate and the exact sweep share their inputs. */
  async refreshAgreement(): Promise<void> {
    const model = this.model();
    const { estimate, patch } = this.state;
    if (!model || !estimate || estimate.status !== "done" || patch.status !== "done" || patch.key !== estimate.key) {
      if (this.state.agreement) this.set({ agreement: undefined });
      return;
    }
    const bySweep: Partial<Record<SweepChoice, SweepAgreement>> = {};
    for (const [sweep, est] of Object.entries(estimate.results) as Array<[SweepChoice, PatchResult]>) {
      const exact = patch.results[sweep];
      if (exact && exact.values.length === est.values.length) bySweep[sweep] = await model.compareSweeps(est.values, exact.values);
    }
    if (this.state.estimate === estimate && this.state.patch === patch) this.set({ agreement: { key: estimate.key, method: estimate.method, bySweep } });
  }

  /** Every chosen sweep over the pasted JSONL pairs, with the experiment's metric and method. */
  async runDataset(): Promise<void> {
    const model = this.model();
    const e = this.state.experiment;
    if (!model) return;
    this.datasetAbort?.abort();
    const abort = (this.datasetAbort = new AbortController());
    const live = () => !abort.signal.aborted && model === this.model();
    // A new object per finished sweep; progress updates reuse it (the view redraws on a new one).
    let results: Partial<Record<SweepChoice, DatasetResult>> = {};
    const inputs = datasetInputs(e);
    this.set({ dataset: { status: "running", results, method: e.method, progress: 0, inputs } });
    try {
      if (!e.dataset.trim()) throw new Error("paste one JSON object per line: {\"clean\": …, \"corrupted\": …, \"answer\": …, \"wrong\": …}");
      if (e.dataset.length > MAX_DATASET) throw new Error(`the dataset is ${e.dataset.length} characters; the lab takes at most ${MAX_DATASET}`);
      // Lines may bring their own answer and wrong tokens; the experiment's are the fallback.
      const answers = await this.answerIds(model, e).catch(() => undefined);
      const sweeps = [...e.sweeps];
      for (const [i, sweep] of sweeps.entries()) {
        const onProgress = (f: number) => live() && this.set({ dataset: { status: "running", results, method: e.method, progress: (i + f) / sweeps.length, inputs } });
        const result = await model.patchDataset({ sweep, metric: e.metric, normalize: e.normalize, method: e.method, answers },
          e.dataset, { bootstrap: 1000, seed: 1, signal: abort.signal, onProgress });
        results = { ...results, [sweep]: result };
        if (live()) this.set({ dataset: { status: "running", results, method: e.method, progress: (i + 1) / sweeps.length, inputs } });
      }
      if (live()) this.set({ dataset: { status: "done", results, method: e.method, inputs } });
    } catch (err) {
      if ((err as Error).name === "AbortError") {
        if (model === this.model() && this.datasetAbort === abort) this.set({ dataset: { status: "cancelled", results, method: e.method, inputs } });
      } else if (live()) {
        this.set({ dataset: { status: "error", results: {}, method: e.method, inputs, error: (err as Error).message } });
      }
    }
  }

  /** Stops a running dataset sweep (the sweeps already finished stay). */
  cancelDataset(): void {
    this.datasetAbort?.abort();
  }

  /** The model changed: nothing computed for the old one may be shown. */
  reset(): void {
    clearTimeout(this.timer);
    this.estimateAbort?.abort();
    this.datasetAbort?.abort();
    this.set({ estimate: undefined, agreement: undefined, dataset: { status: "idle", results: {} } });
  }
}
