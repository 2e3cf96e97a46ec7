import { BadRequestError } from '@paddock/core';
import type { SandboxRecord } from '../../store/sandbox-store.js';

/** What E2B's list calls ask for, read from their query. */
export interface E2bListQuery {
  states: Array<'running' | 'paused'>;
  labels: Record<string, string>;
  startedAfter?: string;
  template?: string;
  order: 'asc' | 'desc';
  limit: number;
  after?: { at: string; id: string };
}

const maxLimit = 100;

/**
 * Reads `state` (repeated or comma-separated), `metadata` (a query string of
 * its own, each key and value URL-encoded once more), `startedAfter`,
 * `template`, `order`, `limit` and `nextToken`.
 */
export function readListQuery(url: URL): E2bListQuery {
  const states = url.searchParams
    .getAll('state')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const state of states) {
    if (state !== 'running' && state !== 'paused') throw new BadRequestError(`state ${state} is not running or paused`, { field: 'state' });
  }
  const order = url.searchParams.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new BadRequestError(`order ${order} is not asc or desc`, { field: 'order' });
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? maxLimit : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw new BadRequestError(`limit must be a whole number from 1 to ${maxLimit}`, { field: 'limit' });
  const startedAfter = url.searchParams.get('startedAfter') ?? undefined;
  if (startedAfter !== undefined && Number.isNaN(Date.parse(startedAfter)))
    throw new BadRequestError(`startedAfter ${startedAfter} is not a time`, { field: 'startedAfter' });
  const nextToken = url.searchParams.get('nextToken');
  return {
    states: states.length ? (states as Array<'running' | 'paused'>) : ['running', 'paused'],
    labels: readMetadata(url.searchParams.get('metadata')),
    ...(startedAfter ? { startedAfter: new Date(startedAfter).toISOString() } : {}),
    ...(url.searchParams.get('template') ? { template: url.searchParams.get('template') as string } : {}),
    order,
    limit,
    ...(nextToken ? { after: readToken(nextToken) } : {}),
  };
}

function readMetadata(text: string | null): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const [key, value] of new URLSearchParams(text)) labels[decoded(key)] = decoded(value);
  return labels;
}

/** The JS SDK encodes each key and value before making the query string; others do not. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A page: the sandboxes after the cursor, in start order, and the cursor of the next page when there is one. */
export function pageOf(records: SandboxRecord[], query: E2bListQuery): { page: SandboxRecord[]; nextToken?: string } {
  const sign = query.order === 'asc' ? 1 : -1;
  const sorted = [...records].sort((a, b) => sign * (a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)));
  const after = query.after;
  const rest = after ? sorted.filter((r) => sign * (r.createdAt.localeCompare(after.at) || r.id.localeCompare(after.id)) > 0) : sorted;
  const page = rest.slice(0, query.limit);
  const last = page.at(-1);
  return rest.length > page.length && last ? { page, nextToken: writeToken({ at: last.createdAt, id: last.id }) } : { page };
}

function writeToken(cursor: { at: string; id: string }): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

function readToken(token: string): { at: string; id: string } {
  const [at = '', id = '', ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (rest.length || Number.isNaN(Date.parse(at)) || !/^sb-[a-z0-9]{12}$/.test(id))
    throw new BadRequestError('nextToken is not one this daemon gave out', { field: 'nextToken' });
  return { at, id };
}
