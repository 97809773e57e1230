/**
 * The P2P settings a viewer or an agent is given (the server's `registered`
 * and the signaling socket's `hello`, docs/PROTOCOL.md §Signaling), and their
 * validation.
 */
import { protocolError } from './errors';
import { bool, int, onlyKeys, str, type Obj } from './json-fields';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface P2PSettings {
  /** P2P allowed by both server and agent. */
  enabled: boolean;
  /** Give up on ICE after this long and stay on the relay, ms. */
  timeoutMs: number;
  iceServers: IceServer[];
  /**
   * The viewer's offer carries a receive-only video section next to the data
   * channel (no media flows): browsers then give the peer connection's UDP
   * socket a larger receive buffer, so bulk bursts are not dropped at the
   * socket (docs/PROTOCOL.md §Receive buffer). Absent: false.
   */
  videoSection?: boolean;
  /**
   * Viewers run the loss probe as their channel opens (docs/PROTOCOL.md §Loss
   * probe). Absent: true; sent, as false, only when the server turns it off.
   */
  lossProbe?: boolean;
  /**
   * The speed mechanisms a server can switch off for an on/off A/B
   * (docs/speed-ledger.md), each absent when on and sent, as false, only
   * when off: the Service Worker races a large GET on both paths
   * (bulkRace) and sends requests to the relay where it measured it faster
   * (pathChoice).
   */
  bulkRace?: boolean;
  pathChoice?: boolean;
}

/** The P2P settings' switches of speed mechanisms (P2PSettings), each absent when on. */
export const SPEED_SWITCHES = ['bulkRace', 'pathChoice'] as const;
export type SpeedSwitch = (typeof SPEED_SWITCHES)[number];

export function parseIceServers(v: unknown): IceServer[] {
  if (!Array.isArray(v) || v.length > 16) throw protocolError('ERR_INVALID_PAYLOAD', '"iceServers" must be an array of at most 16');
  return v.map((s) => {
    if (typeof s !== 'object' || s === null) throw protocolError('ERR_INVALID_PAYLOAD', 'ice server must be an object');
    const o = s as Obj;
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
