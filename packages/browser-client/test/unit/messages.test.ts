import { parseShellToSwPort, parseShimToShell, parseSwToWindow, parseWindowToSw, parseWsTicketReply } from '../../src/shared/messages';
import { withWsTicket } from '../../src/shim/ws-ticket';

describe('postMessage validation (any same-origin script can post)', () => {
  it('accepts the announcements the SW routes by, and nothing malformed', () => {
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, exclude: ['/api'] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      exclude: ['/api'],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, turn: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      turn: true,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, turn: 'yes', exclude: [] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, lossy: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      lossy: true,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, lossy: 1, exclude: [] })).toBeUndefined();
    // An earlier channel's probe found loss: said between channels too; a clean probe says so instead.
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: false, lossy: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: false,
      lossy: true,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, lossClean: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      lossClean: true,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, lossClean: 'yes', exclude: [] })).toBeUndefined();
    // A pending loss probe, only with an open channel (without one there is nothing to route around).
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, probing: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      probing: true,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: false, probing: true, exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: false,
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, probing: 1, exclude: [] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, lossy: true, lossClean: true, exclude: [] })).toBeUndefined();
    // The speed mechanisms the server switched off: known names only (an empty list says every one is on).
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, off: ['bulkRace', 'pathChoice'], exclude: [] })).toEqual({
      type: 'wingman:shell',
      shellId: 'a1',
      p2p: true,
      off: ['bulkRace', 'pathChoice'],
      exclude: [],
    });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, off: [], exclude: [] })).toMatchObject({ off: [] });
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, off: ['lossProbe'], exclude: [] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, off: 'bulkRace', exclude: [] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: 'yes', exclude: [] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:shell', shellId: 'a1', p2p: true, exclude: ['relative'] })).toBeUndefined();
    expect(parseWindowToSw({ type: 'wingman:frame', shellId: 'x'.repeat(65) })).toBeUndefined();
    expect(parseWindowToSw({ type: 'other' })).toBeUndefined();
    expect(parseWindowToSw(null)).toBeUndefined();
  });

  it('accepts a fetch hand-over with an origin-form target and lower-case header tokens only', () => {
    const ok = { type: 'wingman:fetch', method: 'GET', target: '/a?b', headers: [['accept', '*/*']], hasBody: false };
    expect(parseSwToWindow(ok)).toEqual(ok);
    expect(parseSwToWindow({ ...ok, target: 'http://evil/' })).toBeUndefined();
    expect(parseSwToWindow({ ...ok, headers: [['Accept', '*/*']] })).toBeUndefined();
    expect(parseSwToWindow({ ...ok, headers: [['bad name', 'x']] })).toBeUndefined();
  });

  it('accepts a path-choice update naming p2p or relay for both classes only', () => {
    const ok = { type: 'wingman:paths', small: 'p2p', bulk: 'relay' };
    expect(parseSwToWindow(ok)).toEqual(ok);
    expect(parseSwToWindow({ ...ok, bulk: 'turn' })).toBeUndefined();
    expect(parseSwToWindow({ type: 'wingman:paths', small: 'p2p' })).toBeUndefined();
  });

  it('accepts port messages with the right field types only', () => {
    expect(parseShellToSwPort({ t: 'head', status: 200, headers: [] })).toEqual({ t: 'head', status: 200, headers: [] });
    expect(parseShellToSwPort({ t: 'head', status: 20.5, headers: [] })).toBeUndefined();
    expect(parseShellToSwPort({ t: 'data', chunk: new ArrayBuffer(2) })).toMatchObject({ t: 'data' });
    expect(parseShellToSwPort({ t: 'data', chunk: 'text' })).toBeUndefined();
    expect(parseShellToSwPort({ t: 'credit', bytes: -1 })).toBeUndefined();
  });

  it('accepts the shim requests of a WebSocket and a location update', () => {
    expect(parseShimToShell({ type: 'wingman:ws-open', url: 'ws://a/ws', protocols: ['vite-hmr'] })).toMatchObject({ type: 'wingman:ws-open' });
    expect(parseShimToShell({ type: 'wingman:ws-open', url: 'ws://a/ws', protocols: [1] })).toBeUndefined();
    expect(parseShimToShell({ type: 'wingman:location', href: 'http://a/b', title: 't' })).toMatchObject({ type: 'wingman:location' });
  });
});

describe('WebSocket tickets between the shim and the SW', () => {
  it('accepts a ticket query with a URL, and only well-formed tickets back', () => {
    expect(parseWindowToSw({ type: 'wingman:ws-ticket', url: 'ws://a/ws' })).toEqual({ type: 'wingman:ws-ticket', url: 'ws://a/ws' });
    expect(parseWindowToSw({ type: 'wingman:ws-ticket', url: 7 })).toBeUndefined();
    expect(parseWsTicketReply({ ticket: 'AbC_-0123456789xyzAbC_-0123456789' })).toBe('AbC_-0123456789xyzAbC_-0123456789');
    expect(parseWsTicketReply({ ticket: '' })).toBe('');
    expect(parseWsTicketReply({ ticket: 'has space in it 0123456789' })).toBe('');
    expect(parseWsTicketReply({ ticket: 'x&wingman-ws-ticket=y0123456789' })).toBe('');
    expect(parseWsTicketReply(null)).toBe('');
  });

  it("appends the ticket without re-serialising the app's query", () => {
    expect(withWsTicket('ws://a/ws?a=b%20c&flag', 'T0123456789abcdef')).toBe('ws://a/ws?a=b%20c&flag&wingman-ws-ticket=T0123456789abcdef');
    expect(withWsTicket('ws://a/ws', 'T0123456789abcdef')).toBe('ws://a/ws?wingman-ws-ticket=T0123456789abcdef');
    expect(withWsTicket('ws://a/ws?x=1', '')).toBe('ws://a/ws?x=1');
  });
});
