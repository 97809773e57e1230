/**
 * The inspector's viewer endpoints (docs/cli.md "Inspector"): GET /api/viewers,
 * POST /api/viewers/:id/{admit,refuse,revoke}, POST /api/viewers/revoke-all.
 * `:id`: a visitor id or a unique prefix of VIEWER_ID_PREFIX_MIN characters.
 * The server applies decisions: 202 says it was sent, the `viewer` event follows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { shortViewerId, type InspectorErrorCode } from '@wingman/protocol';
import type { ViewerEntry, ViewerRoster } from '../viewers/viewer-roster';

/** Shortest id prefix taken for a viewer: the short form shown (8 hex chars = 32 bits, unique among a session's viewers in practice). */
const VIEWER_ID_PREFIX_MIN = 8;

/** One tunnel's viewers; `tunnel` is its name under `wingman start`. */
export interface ViewerSource {
  tunnel?: string;
  roster: ViewerRoster;
}

type ViewerJson = ViewerEntry & { shortId: string; tunnel?: string };

export const viewerJson = (v: ViewerEntry, tunnel: string | undefined): ViewerJson => ({
  ...v,
  shortId: shortViewerId(v.id),
  ...(tunnel !== undefined ? { tunnel } : {}),
});

type Send = (res: ServerResponse, status: number, body: unknown) => void;

/** Answers `/api/viewers…`; false when the path is not one of them. */
export function handleViewersApi(req: IncomingMessage, res: ServerResponse, path: string, sources: readonly ViewerSource[], send: Send): boolean {
  const method = req.method ?? 'GET';
  /** Answers; true (the path was handled). */
  const reply = (status: number, body: unknown): true => {
    send(res, status, body);
    return true;
  };
  const error = (status: number, code: InspectorErrorCode, message: string) => reply(status, { error: { code, message } });
  if (path === '/api/viewers' && method === 'GET') return reply(200, { viewers: sources.flatMap((s) => s.roster.list().map((v) => viewerJson(v, s.tunnel))) });
  if (path === '/api/viewers/revoke-all' && method === 'POST') {
    const live = sources.filter((s) => s.roster.mode !== undefined);
    if (live.length === 0) return error(503, 'ERR_AGENT_OFFLINE', 'no tunnel is registered with viewer tracking right now');
    const sent = live.map((s) => s.roster.refuseAll());
    if (!sent.some(Boolean)) return error(503, 'ERR_AGENT_OFFLINE', 'not connected to the tunnel server right now; try again when it is back');
    return reply(202, { decision: 'revoke-all' });
  }
  const m = /^\/api\/viewers\/([0-9a-f]{1,32})\/(admit|refuse|revoke)$/.exec(path);
  if (!m || method !== 'POST') return false;
  const [, key, action] = m as unknown as [string, string, 'admit' | 'refuse' | 'revoke'];
  if (key.length < VIEWER_ID_PREFIX_MIN) return error(400, 'ERR_INVALID_QUERY', `a viewer id, or at least its first ${VIEWER_ID_PREFIX_MIN} characters`);
  const found = sources.flatMap((source) => source.roster.list().flatMap((viewer) => (viewer.id.startsWith(key) ? [{ source, viewer }] : [])));
  if (found.length === 0) return error(404, 'ERR_NOT_FOUND', `no viewer ${key}`);
  if (found.length > 1) return error(409, 'ERR_AMBIGUOUS_VIEWER', `${found.length} viewers start with ${key}; give more of the id`);
  const { source, viewer } = found[0]!;
  if (!source.roster.decide(action === 'admit' ? 'admit' : 'refuse', viewer.id))
    return error(503, 'ERR_AGENT_OFFLINE', 'not connected to the tunnel server right now; try again when it is back');
  return reply(202, { decision: action, viewer: viewerJson(viewer, source.tunnel) });
}
