/** Network Information API (Chromium): effective type, RTT, downlink, data saver. */
export function networkInfo(): Record<string, number | string | boolean> | undefined {
  const c = (typeof navigator !== 'undefined'
    ? (navigator as { connection?: Record<string, unknown> }).connection : undefined);
  if (!c) return undefined;
  const out: Record<string, number | string | boolean> = {};
  if (typeof c.effectiveType === 'string') out.type = c.effectiveType;
  if (typeof c.rtt === 'number') out.rtt = c.rtt;
  if (typeof c.downlink === 'number') out.downlink = c.downlink;
  if (typeof c.saveData === 'boolean') out.save_data = c.saveData;
  return out;
}
