// The Generate panel's controller: runs the experiment's generation twice — unsteered and with
// its steering vector — for the same seed, streaming each column's tokens into the store as the
// worker produces them. Stop aborts between tokens; the model stays loaded. Nothing here renders.

import { promptTokens } from "./token-reader";
import type { GenerateOptions, GenerateStep, HookedTransformer, Steering } from "../engine";
import type { Experiment } from "../state/experiment";
import { generateInputs, type GenerateInputs } from "../state/result-inputs";
import type { Store } from "./store";

export const GENERATE_COLUMNS = ["unsteered", "steered"] as const;
export type GenerateColumnName = (typeof GENERATE_COLUMNS)[number];

export interface GenerateColumn {
  status: "idle" | "running" | "done" | "error" | "cancelled";
  steps: GenerateStep[];
  /** The continuation's text once done. */
  text?: string;
  error?: string;
}

export interface GenerateState {
  columns: Record<GenerateColumnName, GenerateColumn>;
  /** What the columns were computed from (stale when the experiment's differ). */
  inputs?: GenerateInputs;
  /** The clicked token: its step's top-5 is shown. */
  selected?: { column: GenerateColumnName; index: number };
}

/** The part of the lab's state this controller owns. */
export interface GenerateSlice {
  experiment: Experiment;
  generate: GenerateState;
}

export function idleGenerateState(): GenerateState {
  const idle = (): GenerateColumn => ({ status: "idle", steps: [] });
  return { columns: { unsteered: idle(), steered: idle() } };
}

/** The steered column's vector: activation addition over the prompt's first positions (as the
 *  paper adds it), or a direction from the analysis views at every position, generated ones too. */
export function steeringOf(e: Experiment): Steering {
  const common = { hook: e.steerHook, layer: e.steerLayer, coefficient: e.steerCoef, to: e.steerTo, by: e.steerBy };
  if (e.steerBy === "unembed") return { ...common, positions: "all", ...(e.steerFrom === "" ? {} : { from: e.steerFrom }) };
  return { ...common, from: e.steerFrom, positions: "prompt" };
}

/** TransformerLens's generate() arguments of the experiment, steered (with the ablations) or not. */
export function generateOptions(e: Experiment, steered: boolean): GenerateOptions {
  const ablateHeads = e.ablateHeads.map((h) => { const [layer, head] = h.split(".").map(Number); return { layer, head, kind: e.ablation }; });
  return {
    maxNewTokens: e.maxNewTokens, temperature: e.temperature, topK: e.genTopK, topP: e.topP, seed: e.seed, prependBos: e.prependBos,
    steering: steered ? [steeringOf(e)] : [], ablateHeads: steered ? ablateHeads : [],
  };
}

export class GenerateController<S extends GenerateSlice> {
  private abort?: AbortController;

  constructor(private readonly store: Store<S>, private readonly model: () => HookedTransformer | undefined) {}

  private get state(): Readonly<S> {
    return this.store.get();
  }

  private setColumn(name: GenerateColumnName, column: GenerateColumn): void {
    const g = this.state.generate;
    this.store.set({ generate: { ...g, columns: { ...g.columns, [name]: column } } } as Partial<S>);
  }

  get running(): boolean {
    return GENERATE_COLUMNS.some((c) => this.state.generate.columns[c].status === "running");
  }

  /** Both columns, one after the other; a new run stops the previous one. */
  async run(): Promise<void> {
    const model = this.model();
    if (!model) return;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const e = this.state.experiment;
    this.store.set({ generate: { ...idleGenerateState(), inputs: generateInputs(e) } } as Partial<S>);
    for (const name of GENERATE_COLUMNS) {
      if (abort.signal.aborted) break;
      await this.runColumn(model, name, e, abort.signal);
    }
  }

  private async runColumn(model: HookedTransformer, name: GenerateColumnName, e: Experiment, signal: AbortSignal): Promise<void> {
    const steps: GenerateStep[] = [];
    this.setColumn(name, { status: "running", steps: [] });
    try {
      const tokens = await promptTokens(model, e.tokenInput, e.genPrompt, e.prependBos);
      const out = await model.generate(tokens, {
        ...generateOptions(e, name === "steered"), signal,
        onToken: (step, index) => {
          steps.length = index;  // a restart on wasm after a lost GPU streams from index 0 again
          steps.push(step);
          if (!signal.aborted) this.setColumn(name, { status: "running", steps: [...steps] });
        },
      });
      this.setColumn(name, { status: "done", steps: out.steps, text: out.generatedText });
    } catch (err) {
      const cancelled = (err as Error).name === "AbortError";
      this.setColumn(name, { status: cancelled ? "cancelled" : "error", steps: [...steps], error: cancelled ? undefined : (err as Error).message });
    }
  }

  /** Stops between tokens; what was generated so far stays on screen. */
  stop(): void {
    this.abort?.abort();
  }

  select(column: GenerateColumnName, index: number): void {
    this.store.set({ generate: { ...this.state.generate, selected: { column, index } } } as Partial<S>);
  }

  /** A new model: nothing generated by the old one is kept. */
  reset(): void {
    this.abort?.abort();
    this.store.set({ generate: idleGenerateState() } as Partial<S>);
  }
}
