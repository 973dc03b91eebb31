/**
 * Drop the fragment and every query parameter not allowed by the site, so no
 * personal data in URLs leaves the browser by default. `allow` holds exact
 * parameter names or prefixes ending in `*` (e.g. `utm_*`).
 */
export function scrubUrl(url: string, allow: string[] = []): string {
  const [base, query] = url.split('#')[0].split('?');
  const kept = (query || '').split('&').filter((pair) => {
    const name = pair.split('=')[0];
    return allow.some((a) => (a.slice(-1) === '*' ? name.indexOf(a.slice(0, -1)) === 0 : name === a));
  });
  return base + (kept.length ? '?' + kept.join('&') : '');
}
