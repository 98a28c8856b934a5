// A minimal observable store: views subscribe and re-render from the state they read.

export class Store<T extends object> {
  private listeners = new Set<(state: T, changed: Set<keyof T>) => void>();

  constructor(private state: T) {}

  get(): Readonly<T> {
    return this.state;
  }

  set(patch: Partial<T>): void {
    const changed = new Set<keyof T>();
    for (const [k, v] of Object.entries(patch) as Array<[keyof T, T[keyof T]]>) {
      if (!Object.is(this.state[k], v)) changed.add(k);
    }
    if (changed.size === 0) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state, changed);
  }

  subscribe(listener: (state: T, changed: Set<keyof T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
