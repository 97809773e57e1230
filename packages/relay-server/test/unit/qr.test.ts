import { renderQr, shouldPrintQr } from '../../src/cli/qr';
import { decodePrintedQr, qrLines } from '../support/decode-qr';

describe('QR code of the session URL', () => {
  it.each(['https://k3v7q2m4x9p1r8s6t5u0w2y4za.wingman.example.com/', 'http://abc.tunnel.test:8080/some/deep/path?with=query'])(
    'renders %s so that a QR decoder reads the URL back',
    (url) => {
      expect(decodePrintedQr(qrLines(renderQr(url)))).toBe(url);
    },
  );

  it('prints by default only on a terminal and only for a URL another device can open', () => {
    const pub = 'https://abc.wingman.example.com/';
    expect(shouldPrintQr(undefined, pub, true)).toBe(true);
    expect(shouldPrintQr(undefined, pub, false)).toBe(false);
    for (const local of ['http://abc.localhost:8080/', 'http://localhost:8080/', 'http://127.0.0.1:8080/', 'http://[::1]:8080/']) {
      expect(shouldPrintQr(undefined, local, true)).toBe(false);
    }
  });

  it('obeys --qr and --no-qr whatever the URL and terminal', () => {
    expect(shouldPrintQr(true, 'http://abc.localhost:8080/', false)).toBe(true);
    expect(shouldPrintQr(false, 'https://abc.wingman.example.com/', true)).toBe(false);
  });
});
