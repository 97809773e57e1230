/** Readable pages (plain HTML, a reload hint) the viewer gets when the agent cannot reach the local app. */
import { ALREADY_RECEIVED_ERROR, ERROR_HEADER, escapeHtml, type HeaderList } from '@wingman/protocol';

export interface ErrorPage {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

function page(status: number, title: string, paragraphs: string[]): ErrorPage {
  const body = Buffer.from(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}code{background:#f2f2f2;padding:0 .2em}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}
<p><small>Wingman · ${status}</small></p>
</body>
</html>
`,
    'utf8',
  );
  return {
    status,
    headers: [
      ['content-type', 'text/html; charset=utf-8'],
      ['content-length', String(body.length)],
      ['cache-control', 'no-store'],
    ],
    body,
  };
}

/** 502: nothing answered on the target (ECONNREFUSED and friends). */
export function unreachablePage(hostPort: string, detail: string): ErrorPage {
  return page(502, 'The local app is not answering', [
    `Wingman reached your machine, but nothing answered on <code>${escapeHtml(hostPort)}</code>. Start your app (or check the port given to <code>wingman http</code>), then reload this page.`,
    `<small>${escapeHtml(detail)}</small>`,
  ]);
}

/** OpenSSL's verdicts on a certificate not trusted here (https://nodejs.org/api/tls.html#x509-certificate-error-codes): the app's, or the tunnel server's. */
const CERTIFICATE_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && CERTIFICATE_ERROR_CODES.has(code);
}

/** 502: the https app's certificate failed verification (forward/target.ts). */
export function untrustedCertificatePage(origin: string, detail: string): ErrorPage {
  return page(502, "The local app's certificate is not trusted", [
    `Wingman reached <code>${escapeHtml(origin)}</code>, but its TLS certificate did not verify. Give the agent its CA (<code>wingman http ${escapeHtml(origin)} --target-ca rootCA.pem</code>), or, for a self-signed certificate on this machine, <code>--target-insecure</code>.`,
    `<small>${escapeHtml(detail)}</small>`,
  ]);
}

/** 504: no response head in time. */
export function timeoutPage(hostPort: string, timeoutMs: number): ErrorPage {
  return page(504, 'The local app took too long to answer', [
    `Wingman forwarded the request to <code>${escapeHtml(hostPort)}</code>, but no response came within ${Math.round(timeoutMs / 1000)} s. The app may still be compiling: reload in a moment. (<code>wingman http --timeout</code> changes this limit.)`,
  ]);
}

/** 502: a head the tunnel cannot carry (e.g. too large). */
export function badResponsePage(hostPort: string, detail: string): ErrorPage {
  return page(502, 'The local app sent a response Wingman cannot forward', [
    `The answer from <code>${escapeHtml(hostPort)}</code> could not be forwarded: ${escapeHtml(detail)}.`,
  ]);
}

/** 400: framing, smuggling attempts. */
export function badRequestPage(detail: string): ErrorPage {
  return page(400, 'Bad request', [`Wingman refused to forward this request: ${escapeHtml(detail)}.`]);
}

/** 503: the buffer budget is spent and this request had held its share the longest. */
export function overloadedPage(): ErrorPage {
  return page(503, 'Wingman is holding too much unread data', [
    'The developer’s Wingman agent holds as much data as it allows for requests that are not moving (an app that does not read an upload, a viewer that does not read a download), and this request had waited the longest. Try again in a moment.',
  ]);
}

/** 502: a request resent over the relay whose P2P copy already reached the app (exchange-record.ts). */
export function alreadyReceivedPage(): ErrorPage {
  const p = page(502, 'The app received this request; it was not sent twice', [
    'The peer-to-peer connection failed while this request was on its way, after the local app had received it. Wingman did not send it again over the relay, so the app has it once: it may have acted on it. Check the result before trying again.',
  ]);
  return { ...p, headers: [...p.headers, [ERROR_HEADER, ALREADY_RECEIVED_ERROR]] };
}
