// The training view's controller: a bundled model may ship its training record (the loss curve
// and checkpoints, models/<id>/training_loss.json). This reads it, then loads each checkpoint in
// an engine of its own, one at a time, and runs the same head detectors as the lab's view on it,
// so a learner can scrub through training and watch the induction heads form. The lab's model
// stays loaded throughout. Nothing here renders.

import { HookedTransformer } from "../engine";
import { parseTrainingRecord, type CheckpointScores, type TrainingRecord } from "../analysis/training";
import type { Store } from "./store";

export interface TrainingState {
  /** none: the model ships no training record (hub models, local files, most bundled ones). */
  status: "none" | "loading" | "ready" | "scoring" | "scored" | "error";
  /** The bundled model id the record belongs to. */
  model?: string;
  record?: TrainingRecord;
  /** Detector scores per checkpoint, in training order, then the finished model's. */
  scores: CheckpointScores[];
  /** The index into scores the view shows. */
  selected?: number;
  error?: string;
}

export interface TrainingSlice {
  training: TrainingState;
}

export interface TrainingSource {
  assetBase?: string;
  /** The loaded (finished) model, scored as the last point of training. */
  model: () => HookedTransformer | undefined;
  tokenPool: () => Promise<number[] | undefined>;
}

const MAX_RECORD_BYTES = 4 << 20;

export class TrainingController<S extends TrainingSlice> {
  private scoring?: Promise<CheckpointScores[]>;

  constructor(private readonly store: Store<S>, private readonly source: TrainingSource) {}

  private get state(): TrainingState {
    return this.store.get().training;
  }

  private set(patch: Partial<TrainingState>): void {
    this.replace({ ...this.state, ...patch });
  }

  private replace(training: TrainingState): void {
    this.store.set({ training } as Partial<TrainingSlice> as Partial<S>);
  }

  /** Reads the training record of a bundled model; hub and local models have none. */
  async open(model: string): Promise<void> {
    this.scoring = undefined;
    this.replace({ status: "none", scores: [] });
    if (!/^[\w-][\w.-]*$/.test(model)) return;
    this.set({ status: "loading", model });
    try {
      const base = this.source.assetBase ?? new URL("./", location.href).href;
      const response = await fetch(new URL(`models/${model}/training_loss.json`, base));
      if (this.state.model !== model) return;
      if (!response.ok) return this.set({ status: "none" });
      if (Number(response.headers.get("content-length") ?? 0) > MAX_RECORD_BYTES) throw new Error("training record: over 4 MiB");
      const text = await response.text();
      if (text.length > MAX_RECORD_BYTES) throw new Error("training record: over 4 MiB");
      this.set({ status: "ready", record: parseTrainingRecord(JSON.parse(text)) });
    } catch (e) {
      if (this.state.model === model) this.set({ status: "error", error: (e as Error).message });
    }
  }

  /**
   * The detector scores at every checkpoint and of the finished model, computed once per model
   * (later calls share the first one's work). Each checkpoint loads in a single-threaded wasm
   * engine that is disposed before the next loads.
   */
  scoreAll(): Promise<CheckpointScores[]> {
    const { record, model } = this.state;
    if (!record || !model) return Promise.reject(new Error("this model ships no training checkpoints (hooklab-induction does)"));
    this.scoring ??= this.score(model, record).catch((e: Error) => {
      this.scoring = undefined;
      if (this.state.model === model) this.set({ status: "error", error: e.message });
      throw e;
    });
    return this.scoring;
  }

  select(index: number): void {
    this.set({ selected: Math.max(0, Math.min(this.state.scores.length - 1, index)) });
  }

  private async score(model: string, record: TrainingRecord): Promise<CheckpointScores[]> {
    this.set({ status: "scoring", scores: [] });
    const tokenPool = await this.source.tokenPool();
    const scores: CheckpointScores[] = [];
    const add = async (step: number, engine: HookedTransformer) => {
      const d = await engine.detectHeads({ tokenPool });
      scores.push({ step, shape: d.shape, inductionDiagonal: d.inductionDiagonal, previousTokenDiagonal: d.previousTokenDiagonal,
        induction: d.induction, previousToken: d.previousToken });
      if (this.state.model === model) this.set({ scores: [...scores] });
    };
    for (const checkpoint of record.checkpoints) {
      const engine = await HookedTransformer.load({ bundled: `${model}/${checkpoint.path}` },
        { assetBase: this.source.assetBase, singleThreaded: true, backend: "wasm" });
      try {
        await add(checkpoint.step, engine);
      } finally {
        engine.dispose();
      }
      if (this.state.model !== model) throw new Error("another model was loaded");
    }
    const finished = this.source.model();
    if (!finished) throw new Error("the model is not loaded");
    await add(record.steps, finished);
    this.set({ status: "scored", selected: scores.length - 1 });
    return scores;
  }
}
