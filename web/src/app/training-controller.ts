// The training view's controller: a bundled model may ship its training record (the loss curve
// and checkpoints, models/<id>/training_loss.json). This reads it, then loads each checkpoint in
// an engine of its own, one at a time, and runs the same head detectors as the lab's view on it,
// so a learner can scrub through training and watch the induction heads form. The lab's model
// stays loaded throughout. Nothing here renders.

import { HookedTransformer } from "../engine";
import { parseTrainingRecord, type CheckpointScores, type TrainingRecord } from "../analysis/training";
import { isPlainPath } from "../engine/paths";
import type { Store } from "./store";
import type { BundledFile } from "./model-choices";

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
  /** LabOptions.shipsFile: models it says lack a record are not asked for one. */
  shipsFile?: (model: string, file: BundledFile) => boolean;
}

const MAX_RECORD_BYTES = 4 << 20;

export class TrainingController<S extends TrainingSlice> {
  /** Bumped by every open(): work begun for an earlier model (or an earlier load of the same
   *  one) sees the change after each await and writes nothing. */
  private generation = 0;
  private opening: Promise<void> = Promise.resolve();
  private scoring?: Promise<CheckpointScores[]>;

  constructor(private readonly store: Store<S>, private readonly source: TrainingSource) {}

  private get state(): TrainingState {
    return this.store.get().training;
  }

  /** Writes into the state only while `generation` is still the current one. */
  private set(generation: number, patch: Partial<TrainingState>): void {
    if (generation === this.generation) this.store.set({ training: { ...this.state, ...patch } } as Partial<TrainingSlice> as Partial<S>);
  }

  /** Reads the training record of a bundled model; hub and local models have none. */
  open(model: string): Promise<void> {
    const generation = ++this.generation;
    this.scoring = undefined;
    this.store.set({ training: { status: "none", scores: [] } } as Partial<TrainingSlice> as Partial<S>);
    const bundled = isPlainPath(model, 1) && model !== "local";
    const ships = this.source.shipsFile?.(model, "training_loss.json") ?? true;
    this.opening = bundled && ships ? this.read(generation, model) : Promise.resolve();
    return this.opening;
  }

  private async read(generation: number, model: string): Promise<void> {
    this.set(generation, { status: "loading", model });
    try {
      const base = this.source.assetBase ?? new URL("./", location.href).href;
      const response = await fetch(new URL(`models/${model}/training_loss.json`, base));
      // A host that answers a missing file with its index.html has no record either.
      if (!response.ok || /html/i.test(response.headers.get("content-type") ?? "")) return this.set(generation, { status: "none" });
      if (Number(response.headers.get("content-length") ?? 0) > MAX_RECORD_BYTES) throw new Error("training record: over 4 MiB");
      const text = await response.text();
      if (text.length > MAX_RECORD_BYTES) throw new Error("training record: over 4 MiB");
      this.set(generation, { status: "ready", record: parseTrainingRecord(JSON.parse(text)) });
    } catch (e) {
      this.set(generation, { status: "error", error: (e as Error).message });
    }
  }

  /**
   * The detector scores at every checkpoint and of the finished model, computed once per model
   * (later calls share the first one's work; a call while the record loads waits for it). Each
   * checkpoint loads in a single-threaded wasm engine that is disposed before the next loads.
   */
  async scoreAll(): Promise<CheckpointScores[]> {
    const generation = this.generation;
    await this.opening;
    const { record, model } = this.state;
    if (generation !== this.generation) throw new Error("another model was loaded");
    if (!record || !model) throw new Error("this model ships no training checkpoints (hooklab-induction does)");
    const run = this.scoring ?? this.score(generation, model, record).catch((e: Error) => {
      if (this.scoring === run) this.scoring = undefined;
      this.set(generation, { status: "error", error: e.message });
      throw e;
    });
    this.scoring = run;
    return run;
  }

  select(index: number): void {
    this.set(this.generation, { selected: Math.max(0, Math.min(this.state.scores.length - 1, index)) });
  }

  private async score(generation: number, model: string, record: TrainingRecord): Promise<CheckpointScores[]> {
    this.set(generation, { status: "scoring", scores: [] });
    const tokenPool = await this.source.tokenPool();
    const scores: CheckpointScores[] = [];
    const add = async (step: number, engine: HookedTransformer) => {
      const d = await engine.detectHeads({ tokenPool });
      if (generation !== this.generation) throw new Error("another model was loaded");
      scores.push({ step, shape: d.shape, inductionDiagonal: d.inductionDiagonal, previousTokenDiagonal: d.previousTokenDiagonal,
        induction: d.induction, previousToken: d.previousToken });
      this.set(generation, { scores: [...scores] });
    };
    for (const checkpoint of record.checkpoints) {
      const engine = await HookedTransformer.load({ bundled: `${model}/${checkpoint.path}` },
        { assetBase: this.source.assetBase, singleThreaded: true, backend: "wasm" });
      try {
        await add(checkpoint.step, engine);
      } finally {
        engine.dispose();
      }
    }
    const finished = this.source.model();
    if (!finished) throw new Error("the model is not loaded");
    await add(record.steps, finished);
    this.set(generation, { status: "scored", selected: scores.length - 1 });
    return scores;
  }
}
