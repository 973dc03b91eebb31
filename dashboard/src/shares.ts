// Good / needs improvement / poor shares over the window, from vitals-ratings per device
// class (one question for every metric; a device filter is one row, and all devices are
// the rows combined exactly by their summed sample weights).

import { num, str, type Row } from './api';

/** [good, needs improvement, poor, page views] of `metric` over the rows of `device` (all
 * when ''); the shares weighted as the query weighs them, the page views observed. */
export function sharesOf(rows: Row[], metric: string, device: string): [number, number, number, number] | null {
  const chosen = rows.filter((r) => str(r, 'metric') === metric && (!device || str(r, 'device_class') === device));
  const weight = chosen.reduce((s, r) => s + num(r, 'weight'), 0);
  if (weight === 0) return null;
  const share = (key: string): number => chosen.reduce((s, r) => s + num(r, key) * num(r, 'weight'), 0) / weight;
  return [share('good'), share('needs_improvement'), share('poor'), chosen.reduce((s, r) => s + num(r, 'samples'), 0)];
}
