/**
 * Drop the fragment and every query parameter not allowed by the site, so no
 * personal data in URLs leaves the browser by default.
 */
export function scrubUrl(url: string, allow: string[] = []): string {
  const hash = url.indexOf('#');
  if (hash >= 0) url = url.slice(0, hash);
  const q = url.indexOf('?');
  if (q < 0) return url;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const name = decodeSafe(pair.split('=')[0]);
      return allow.some((a) => (a.endsWith('*') ? name.startsWith(a.slice(0, -1)) : name === a));
    });
  return url.slice(0, q) + (kept.length ? '?' + kept.join('&') : '');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
