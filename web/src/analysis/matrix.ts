// Shaping helpers for matrix views and exports. Pure functions.

/** Makes axis labels unique (Plot's band scales need distinct domain values): "3: the". */
export function uniqueLabels(labels: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.map((l, i) => ((counts.get(l) ?? 0) > 1 ? `${i}: ${l}` : l));
}

/** Rows for CSV export: [rowLabel, ...values]. */
export function matrixRows(rowLabels: string[], values: ArrayLike<number>, cols: number): Array<Array<string | number>> {
  return rowLabels.map((label, r) => [label, ...Array.from({ length: cols }, (_, c) => values[r * cols + c])]);
}

/** RFC 4180 CSV; every field quoted when needed (token strings contain commas and quotes). */
export function toCsv(columns: string[], rows: Array<Array<string | number>>): string {
  const field = (v: string | number) => {
    const s = String(v);
    return /[",\n\r]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/** Slices [H, P, P] patterns (one layer) out of a [1, H, P, P] tensor. */
export function headPattern(pattern: Float32Array, heads: number, positions: number, head: number): Float32Array {
  const size = positions * positions;
  return pattern.subarray(head * size, (head + 1) * size);
  void heads;
}

/** Row-major sub-matrix [r0, r1) x [c0, c1). */
export function subMatrix(values: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number[] {
  const out: number[] = [];
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out.push(values[r * cols + c]);
  return out;
}
