/**
 * A real OpenID Provider for the sign-in tests (npm oidc-provider), in its own
 * process on loopback: `node oidc-provider-child.mjs <redirect URI>...` (one client,
 * whose redirect URIs they are) prints
 * `{"event":"listening","issuer":…,"clientId":…,"clientSecret":…}`.
 *
 * No login form: the next authorization signs in the account the test named
 * last (POST /__test/next-login, body: the email), whose claims are that
 * email, verified. Consent is implied (loadExistingGrant), as for a
 * first-party client.
 *
 * POST /__test/tamper (body: `aud`, `signature`, `expired` or empty) makes
 * the token endpoint's next answers carry an ID token changed that way and
 * signed again: with the provider's own key (`aud`, `expired`), or with
 * another key under the same key id (`signature`). What the provider itself
 * issues is untouched; only what leaves this process is changed.
 */
import { createServer, request } from 'node:http';
import Provider from 'oidc-provider';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';

const redirectUris = process.argv.slice(2);
const CLIENT_ID = 'wingman-test';
const CLIENT_SECRET = 'wingman-test-client-secret';
const KID = 'test-key';

const own = await generateKeyPair('RS256', { extractable: true });
const other = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(own.privateKey)), kid: KID, use: 'sig', alg: 'RS256' };

let nextLogin = 'nobody@example.com';
let tamper = '';

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['oidc-provider-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: id, email_verified: true }) }),
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});
const callback = provider.callback();

const body = (req) =>
  new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });

/** The token endpoint's answer from the provider itself, then its ID token changed as `tamper` says. */
async function tamperedToken(req, res) {
  const sent = await body(req);
  const answer = await new Promise((resolve, reject) => {
    const headers = { ...req.headers, 'x-untampered': '1', 'content-length': String(sent.length) };
    const r = request({ host: '127.0.0.1', port, method: 'POST', path: req.url, headers }, (upstream) => {
      body(upstream).then((b) => resolve({ status: upstream.statusCode, text: b.toString('utf8') }), reject);
    });
    r.on('error', reject);
    r.end(sent);
  });
  const json = JSON.parse(answer.text);
  if (answer.status === 200 && json.id_token) {
    const claims = decodeJwt(json.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'aud') claims.aud = 'another-client';
    if (tamper === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    const key = tamper === 'signature' ? other.privateKey : own.privateKey;
    json.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
  }
  const out = JSON.stringify(json);
  res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}

server.on('request', (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const fail = (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    if (!res.headersSent) res.writeHead(500).end(String(err));
  };
  if (req.method === 'POST' && path === '/__test/next-login') {
    body(req).then((b) => {
      nextLogin = b.toString('utf8').trim();
      res.writeHead(204).end();
    }, fail);
    return;
  }
  if (req.method === 'POST' && path === '/__test/tamper') {
    body(req).then((b) => {
      tamper = b.toString('utf8').trim();
      res.writeHead(204).end();
    }, fail);
    return;
  }
  if (path.startsWith('/interaction/')) {
    provider
      .interactionDetails(req, res)
      .then((details) => {
        if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
        return provider.interactionFinished(req, res, { login: { accountId: nextLogin } }, { mergeWithLastSubmission: false });
      })
      .catch(fail);
    return;
  }
  if (path === '/token' && tamper !== '' && req.headers['x-untampered'] === undefined) {
    tamperedToken(req, res).catch(fail);
    return;
  }
  callback(req, res);
});

process.stdout.write(`${JSON.stringify({ event: 'listening', issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })}\n`);
