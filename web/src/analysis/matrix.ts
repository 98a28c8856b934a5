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
