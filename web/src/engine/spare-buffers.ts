// Result buffers written once while the engine worker waits for its next request.
//
// Why: a run's logits and cache arena leave the worker in Float32Arrays transferred to the page,
// so the next run copies its results into new memory, and the first write to each fresh page is
// a page fault. Where the OS hands freed pages back to a hypervisor (the Firecracker VMs the
// benchmarks run on) that costs about 2.5 ms per MB: 16 ms for GPT-2 small's logits at T = 32,
// 60 ms for its whole cache, more than everything such a run computes beyond the forward. A spare
// of the length the last runs returned, allocated and written in small slices while the worker
// is idle, takes that cost off the next run's path; a request that arrives meanwhile waits at
// most one slice. A spare is handed out once and then belongs to the page like any result: no
// buffer is ever reused under someone who still holds it. Buffers that never left the worker
// (the logits behind the prediction views) come back with keep() and are used again as they are.

export interface SpareBufferOptions {
  /** The most bytes all spares may hold together; a length whose spare alone would take more than half is never kept. */
  budgetBytes: number;
  /** Bytes written per idle task. */
  sliceBytes: number;
  /** How many of the most recent results decide what to keep (the same length twice keeps two). */
  recentResults: number;
  /** Runs `task` in a later task of the event loop (the pool never has two scheduled at once). */
  schedule: (task: () => void) => void;
}

export interface SpareBufferStats {
  /** Bytes held in spares, and how many of them are written already. */
  bytes: number;
  warmBytes: number;
  /** Results that went out in a spare, and results that needed new memory, since the worker started. */
  taken: number;
  missed: number;
}

interface Spare {
  array: Float32Array;
  /** Elements written so far (the rest are pages not yet touched). */
  warm: number;
}

export class SpareBuffers {
  private readonly spares: Spare[] = [];
  private readonly recent: number[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private warming = false;
  private taken = 0;
  private missed = 0;

  constructor(private readonly options: SpareBufferOptions) {}

  /** A spare of exactly `length` floats (its contents are undefined), or undefined: then use new memory. */
  take(length: number): Float32Array | undefined {
    const i = this.spares.findIndex((s) => s.array.length === length);
    if (i < 0) {
      this.missed++;
      return undefined;
    }
    this.taken++;
    return this.spares.splice(i, 1)[0].array;
  }

  /** Results of these lengths went to the page: keep spares for the lengths the recent results had, and write them while idle. */
  replenish(lengths: number[]): void {
    this.remember(lengths);
    // Newest first: when the budget is short, the lengths just seen matter more than older ones.
    for (const length of new Set([...this.recent].reverse())) {
      while (this.count(length) < this.wantedCount(length) && this.fits(length)) {
        this.spares.push({ array: new Float32Array(length), warm: 0 });
      }
    }
    this.startWarming();
  }

  /** A buffer that never left the worker and is no longer used: the next result of its length goes into it. */
  keep(array: Float32Array): void {
    this.remember([array.length]);
    const whole = array.buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength;
    if (whole && this.count(array.length) < this.wantedCount(array.length) && this.fits(array.length)) {
      this.spares.push({ array, warm: array.length });
    }
  }

  /** Drops every spare and what the recent results were (a new model makes other lengths). */
  clear(): void {
    this.spares.length = 0;
    this.recent.length = 0;
  }

  /** Resolves once every spare is written (at once when there is nothing to do). */
  whenIdle(): Promise<void> {
    if (!this.warming) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): SpareBufferStats {
    const bytes = this.spares.reduce((n, s) => n + s.array.byteLength, 0);
    const warmBytes = this.spares.reduce((n, s) => n + s.warm * Float32Array.BYTES_PER_ELEMENT, 0);
    return { bytes, warmBytes, taken: this.taken, missed: this.missed };
  }

  /** Notes the lengths of the latest results and drops the spares they no longer call for. */
  private remember(lengths: number[]): void {
    this.recent.push(...lengths);
    this.recent.splice(0, Math.max(0, this.recent.length - this.options.recentResults));
    this.dropUnwanted();
  }

  private wantedCount(length: number): number {
    return this.recent.filter((l) => l === length).length;
  }

  private count(length: number): number {
    return this.spares.filter((s) => s.array.length === length).length;
  }

  private fits(length: number): boolean {
    const bytes = length * Float32Array.BYTES_PER_ELEMENT;
    const held = this.spares.reduce((n, s) => n + s.array.byteLength, 0);
    return bytes * 2 <= this.options.budgetBytes && held + bytes <= this.options.budgetBytes;
  }

  /** Spares of lengths the recent results no longer have, or more of one length than they had. */
  private dropUnwanted(): void {
    for (let i = this.spares.length - 1; i >= 0; i--) {
      const length = this.spares[i].array.length;
      if (this.count(length) > this.wantedCount(length)) this.spares.splice(i, 1);
    }
  }

  private startWarming(): void {
    if (this.warming) return;
    this.warming = true;
    this.options.schedule(() => this.warmSlice());
  }

  /** Writes one slice of the first spare not yet written, then schedules the next slice. */
  private warmSlice(): void {
    const spare = this.spares.find((s) => s.warm < s.array.length);
    if (!spare) {
      this.warming = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const end = Math.min(spare.array.length, spare.warm + Math.max(1, Math.floor(this.options.sliceBytes / Float32Array.BYTES_PER_ELEMENT)));
    spare.array.fill(0, spare.warm, end);
    spare.warm = end;
    this.options.schedule(() => this.warmSlice());
  }
}
