// Path patching in the lab: every sender head's effect through the chosen receivers (the logits,
// or some heads' q, k or v), run on demand with progress and cancel. Views read the store;
// nothing here renders.

import type { HookedTransformer, PathPatchResult } from "../engine";
import { receiverOf, type Experiment } from "../state/experiment";
import { pathInputs, type PathInputs } from "../state/result-inputs";
import type { Store } from "./store";

export interface PathState {
  status: "idle" | "running" | "done" | "error" | "cancelled";
  progress: number;
  result?: PathPatchResult;
  /** The inputs the result was computed from (stale when the experiment's differ). */
  inputs?: PathInputs;
  error?: string;
}

/** The part of the lab's state this controller owns, and what it reads. */
export interface PathSlice {
  experiment: Experiment;
  clean?: { ids: Int32Array };
  corrupted?: { ids: Int32Array };
  answer?: { id?: number };
  wrong?: { id?: number };
  path: PathState;
}

export function idlePathState(): PathState {
  return { status: "idle", progress: 0 };
}

export class PathController<S extends PathSlice> {
  private abort?: AbortController;

  constructor(private readonly store: Store<S>, private readonly model: () => HookedTransformer | undefined,
    private readonly blocker: () => string | undefined, private readonly inputsSettled: () => Promise<void>) {}

  private get state(): Readonly<S> {
    return this.store.get();
  }

  private set(path: PathState): void {
    this.store.set({ path } as Partial<S>);
  }

  async run(): Promise<void> {
    // A run asked for right after an edit (a lesson's Show button) waits for the new prompts' tokens.
    await this.inputsSettled();
    const model = this.model();
    const blocked = this.blocker();
    const s = this.state, e = s.experiment;
    const inputs = pathInputs(e);
    if (!model || blocked) {
      this.abort?.abort();  // a run still in flight must not replace this error with its result
      this.abort = undefined;
      this.set({ status: "error", progress: 0, inputs, error: `cannot run path patching: ${blocked ?? "the model is not loaded"}` });
      return;
    }
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const live = () => this.abort === abort && model === this.model();
    this.set({ status: "running", progress: 0, inputs });
    try {
      const answer = s.answer!.id!;
      const result = await model.pathPatch({
        clean: s.clean!.ids, corrupted: s.corrupted!.ids, answers: [[answer, s.wrong?.id ?? answer]],
        metric: e.metric, normalize: e.normalize, direction: e.pathDirection, receivers: e.pathReceivers.map(receiverOf),
      }, { signal: abort.signal, onProgress: (f) => live() && this.set({ status: "running", progress: f, inputs }) });
      if (live()) this.set({ status: "done", progress: 1, result, inputs });
    } catch (err) {
      if (!live()) return;
      const cancelled = (err as Error).name === "AbortError";
      this.set({ status: cancelled ? "cancelled" : "error", progress: 0, inputs, error: cancelled ? undefined : (err as Error).message });
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** The model changed: nothing computed for the old one may be shown. */
  reset(): void {
    this.abort?.abort();
    this.abort = undefined;
    this.set(idlePathState());
  }
}
