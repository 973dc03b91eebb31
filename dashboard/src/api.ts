// The only data path of the dashboard: the collector's JSON query API (GET /v1/query/{name})
// and the alert API (GET /v1/alerts). URLs are relative, so the page works on the public
// listener, the admin listener or behind a path prefix alike.

export type Row = Record<string, unknown>;

export interface AlertsReply {
  active: Row[];
  recent: Row[];
}

/** A query the collector refused or could not answer; the message is its `detail`. */
export class ApiError extends Error {}

async function getJson(url: string): Promise<unknown> {
  const reply = await fetch(url, { headers: { accept: 'application/json' } });
  const body: unknown = await reply.json().catch(() => null);
  if (!reply.ok) {
    const detail = (body as { detail?: string } | null)?.detail ?? reply.statusText;
    throw new ApiError(`${url.split('?')[0]}: ${reply.status} ${detail}`);
  }
  return body;
}

/** Rows of a named query; parameters with an empty value are left out (their default). */
export async function query(name: string, params: Record<string, string>): Promise<Row[]> {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  const body = (await getJson(`v1/query/${name}?${search}`)) as { rows: Row[] };
  return body.rows;
}

/** Active (pending, firing) alerts and recent transitions. */
export async function alerts(): Promise<AlertsReply> {
  return (await getJson('v1/alerts')) as AlertsReply;
}

export const num = (row: Row, key: string): number => Number(row[key] ?? NaN);
export const str = (row: Row, key: string): string => String(row[key] ?? '');
