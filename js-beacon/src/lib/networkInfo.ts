/** Network Information API (Chromium): effective type, RTT, downlink, data saver. */
export function networkInfo(): Record<string, number | string | boolean> | undefined {
  const c = (navigator as { connection?: Record<string, number | string | boolean> }).connection;
  return c && { type: c.effectiveType, rtt: c.rtt, downlink: c.downlink, save_data: c.saveData };
}
