/** A random id of 16 url-safe characters. */
export function randomId(): string {
  let out = '';
  while (out.length < 16) out += Math.random().toString(36).slice(2);
  return out.slice(0, 16);
}
