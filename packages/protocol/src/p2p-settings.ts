/** The P2P settings in the server's `registered` and signaling `hello` (docs/PROTOCOL.md §Signaling). */
import { protocolError } from './errors';
import { asObject, bool, int, onlyKeys, str, type Obj } from './json-fields';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface P2PSettings {
  enabled: boolean;
  /** Give up on ICE after this long and stay on the relay, ms. */
  timeoutMs: number;
  iceServers: IceServer[];
  /** A receive-only video section in the offer, for a larger UDP receive buffer (docs/PROTOCOL.md §Receive buffer). */
  videoSection?: boolean;
  /** Absent: true. */
  lossProbe?: boolean;
  /** SPEED_SWITCHES (docs/speed-ledger.md): each absent when on. */
  bulkRace?: boolean;
  pathChoice?: boolean;
}

export const SPEED_SWITCHES = ['bulkRace', 'pathChoice'] as const;
export type SpeedSwitch = (typeof SPEED_SWITCHES)[number];

export function parseIceServers(v: unknown): IceServer[] {
  if (!Array.isArray(v) || v.length > 16) throw protocolError('ERR_INVALID_PAYLOAD', '"iceServers" must be an array of at most 16');
  return v.map((s) => {
    const o = asObject(s, 'ice server');
    onlyKeys(o, ['urls', 'username', 'credential']);
    const urls = o.urls;
    if (
      !Array.isArray(urls) ||
      urls.length === 0 ||
      urls.length > 16 ||
      !urls.every((u) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u) && u.length < 512)
    ) {
      throw protocolError('ERR_INVALID_PAYLOAD', 'ice server "urls" must be stun:/turn: URLs');
    }
    const out: IceServer = { urls: urls as string[] };
    if (o.username !== undefined) out.username = str(o, 'username');
    if (o.credential !== undefined) out.credential = str(o, 'credential');
    return out;
  });
}

export function parseP2PSettings(v: Obj): P2PSettings {
  onlyKeys(v, ['enabled', 'timeoutMs', 'iceServers', 'videoSection', 'lossProbe', ...SPEED_SWITCHES]);
  const settings: P2PSettings = { enabled: bool(v, 'enabled'), timeoutMs: int(v, 'timeoutMs', 0, 600_000), iceServers: parseIceServers(v.iceServers) };
  if (v.videoSection !== undefined) settings.videoSection = bool(v, 'videoSection');
  if (v.lossProbe !== undefined) settings.lossProbe = bool(v, 'lossProbe');
  for (const name of SPEED_SWITCHES) if (v[name] !== undefined) settings[name] = bool(v, name);
  return settings;
}
