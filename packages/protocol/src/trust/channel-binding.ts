/**
 * Channel binding: each end's first message on the data channel is an HMAC under the link key over both
 * DTLS fingerprints it actually sees and the sender (so it cannot be reflected back), so a party that
 * terminated DTLS in the middle cannot match it. docs/PROTOCOL.md §Verified channels.
 */
import { channelView } from '../transports/channel-view';
import type { DataChannelLike } from '../transports/data-channel';
import { fromBase64url, toBase64url } from './base64url';
import { SIGNAL_MAC_CHARS, TRUST_VERSION, type SignalSender, type TrustKeys } from './signal-mac';
import { utf8, webCrypto } from './webcrypto';

/** The other end's proof is its first message. */
const BINDING_TIMEOUT_MS = 10_000;

const MAX_BIND_MESSAGE_CHARS = 256;

/** Each `sha-256 AB:CD:…` (upper-case hex). */
export interface ChannelFingerprints {
  agent: string;
  viewer: string;
}

/** The first SHA-256 certificate fingerprint of an SDP (`a=fingerprint:sha-256 …`), normalized; undefined when there is none. */
export function sdpFingerprint(sdp: string): string | undefined {
  const m = /^a=fingerprint:sha-256 ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})\s*$/m.exec(sdp);
  return m ? `sha-256 ${m[1]!.toUpperCase()}` : undefined;
}

/** The fingerprint of a DER certificate's SHA-256 digest, in the form sdpFingerprint returns. */
export function fingerprintOfDigest(digest: Uint8Array): string {
  return `sha-256 ${Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
}

/** A fingerprint's short form for people: its first 8 bytes (`AB:CD:…:EF`). */
export function shortFingerprint(fp: string): string {
  return fp.replace(/^sha-256 /, '').slice(0, 23);
}

export async function bindingProof(keys: TrustKeys, from: SignalSender, fps: ChannelFingerprints): Promise<string> {
  const text = `${TRUST_VERSION}\nbind\n${from}\n${fps.agent}\n${fps.viewer}\n${keys.sessionId}`;
  return toBase64url(new Uint8Array(await webCrypto().subtle.sign('HMAC', keys.bind, utf8(text))));
}

export class BindingError extends Error {
  override readonly name = 'BindingError';
  constructor(
    message: string,
    /** The other end sent something other than the expected proof (not a timeout or a closed channel). */
    readonly refused: boolean,
  ) {
    super(message);
  }
}

function proofOf(data: unknown): string | undefined {
  if (typeof data !== 'string' || data.length > MAX_BIND_MESSAGE_CHARS) return undefined;
  try {
    const o = JSON.parse(data) as { type?: unknown; proof?: unknown };
    return o.type === 'bind' && typeof o.proof === 'string' && o.proof.length === SIGNAL_MAC_CHARS ? o.proof : undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time. */
function sameProof(a: string, b: string): boolean {
  const x = fromBase64url(a);
  const y = fromBase64url(b);
  if (!x || !y || x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * Resolves, once the other end's first message is the expected proof, with a channel for the Connection
 * (later messages go to its first listener, in order); a wrong, missing or late proof closes the channel
 * and rejects with a BindingError. Call by `open` at the latest, before anything can arrive.
 */
export function bindDataChannel(
  dc: DataChannelLike,
  proofs: () => Promise<{ own: string; expected: string }>,
  timeoutMs: number = BINDING_TIMEOUT_MS,
): Promise<DataChannelLike> {
  dc.binaryType = 'arraybuffer';
  let state: 'waiting' | 'queueing' | 'forwarding' | 'failed' = 'waiting';
  let received: unknown;
  const queued: unknown[] = [];
  const listeners: Array<(ev: { data: unknown }) => void> = [];
  return new Promise<DataChannelLike>((resolve, reject) => {
    const fail = (why: string, refused = false) => {
      if (state === 'failed') return;
      state = 'failed';
      clearTimeout(timer);
      try {
        dc.close();
      } catch {
        /* already closed */
      }
      reject(new BindingError(why, refused));
    };
    const timer = setTimeout(() => fail(`no channel-binding proof within ${timeoutMs} ms`), timeoutMs);
    let computed: { own: string; expected: string } | undefined;
    const check = () => {
      if (state !== 'waiting' || !computed || received === undefined) return;
      const proof = proofOf(received);
      if (proof === undefined) return fail('the first message on the channel is not a channel-binding proof', true);
      if (!sameProof(proof, computed.expected))
        return fail('the channel-binding proof does not match: the channel does not end at the holder of the link key', true);
      clearTimeout(timer);
      state = 'queueing';
      resolve(gated);
    };
    let computing = false;
    const start = () => {
      if (computing || state === 'failed') return;
      computing = true;
      proofs().then(
        (p) => {
          if (state === 'failed') return;
          // The channel may have been torn down meanwhile, without a close event; @roamhq/wrtc crashes
          // (SIGSEGV in RTCDataChannel::Send) on a send to it, and readyState tells.
          if (dc.readyState !== 'open') return fail('the channel closed during channel binding');
          computed = p;
          dc.send(JSON.stringify({ type: 'bind', proof: p.own }) as unknown as ArrayBuffer);
          check();
        },
        (err: unknown) => fail(`cannot compute the channel-binding proof: ${(err as Error).message}`),
      );
    };
    dc.addEventListener('message', (ev) => {
      if (state === 'failed') return;
      if (state === 'waiting') {
        if (received !== undefined) return void queued.push(ev.data);
        received = ev.data;
        return check();
      }
      if (state === 'queueing') return void queued.push(ev.data);
      for (const fn of listeners) fn(ev);
    });
    dc.addEventListener('close', () => {
      if (state === 'waiting') fail('the channel closed during channel binding');
    });
    if (dc.readyState === 'open') start();
    else dc.addEventListener('open', start);
    const gated = channelView(dc, (fn) => {
      listeners.push(fn);
      // Later, so the caller attaches its own handlers (the Connection's 'ready') before the queued messages run.
      queueMicrotask(() => {
        while (queued.length > 0 && state === 'queueing') {
          const data = queued.shift();
          for (const l of listeners) l({ data });
        }
        if (state === 'queueing') state = 'forwarding';
      });
    });
  });
}
