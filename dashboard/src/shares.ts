// Good / needs improvement / poor shares over the window, from slow-segments per device
// class (so a device filter is one row, and all devices are the rows combined exactly).

import { num, str, type Row } from './api';

/** [good, needs improvement, poor, page views] over the rows of `device` (all when ''). */
export function sharesOf(rows: Row[], device: string): [number, number, number, number] | null {
  const chosen = device ? rows.filter((r) => str(r, 'device_class') === device) : rows;
  const n = chosen.reduce((s, r) => s + num(r, 'samples'), 0);
  if (n === 0) return null;
  const share = (key: string): number => chosen.reduce((s, r) => s + num(r, key) * num(r, 'samples'), 0) / n;
  return [share('good'), share('needs_improvement'), share('poor'), n];
}
