/**
 * The server's sign-in with its OpenID Connect issuer, on the apex (the sign-in gate's other half:
 * access/sign-in-gate.ts). openid-client does the protocol: discovery, the authorization code flow with PKCE
 * (S256), state and nonce, and the ID token's checks (signature against the issuer's JWKS, asked for explicitly with
 * enableNonRepudiationChecks; issuer, audience, expiry, nonce); the email comes from the ID token, or from the
 * userinfo endpoint for the same subject when the ID token has none. Nothing of the issuer's tokens is kept: only
 * the verified email, in the apex's identity cookie (host-only, so session hosts never receive it), from which each
 * session origin gets its own cookie through a one-time hand-off.
 *
 * Every step is bound to the browser that started the sign-in on the session's origin: the session host's binding
 * digest (sign-in-binding.ts) rides the flow and the hand-off, and the flow itself (state, nonce, PKCE verifier)
 * lives sealed in that browser's FLOW_COOKIE (sign-in-flow-state.ts), so the server keeps nothing per sign-in started.
 *
 * - SIGN_IN_PATH `?session=<id>&return=<path>&bind=<digest>`: with a valid identity cookie, straight to the
 *   session's hand-off; otherwise to the issuer (with OIDC_PROMPT's prompt, if set). `switch=1` ignores the cookie
 *   and asks the issuer to sign in again (prompt=login: another account). Without `bind` (a link to the apex from
 *   elsewhere): first to the session's own SIGN_IN_PATH, which adds it.
 * - SIGN_IN_CALLBACK_PATH: the issuer's answer, accepted only with the FLOW_COOKIE whose `state` it names, within
 *   FLOW_MAX_AGE_S, once.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://datatracker.ietf.org/doc/html/rfc9700#section-4.7 (CSRF: state bound to the user agent)
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSessionLabel } from '@wingman/protocol';
import type { OidcOptions } from '../config';
import { ownCookie, requestCookie } from '../http/request-cookie';
import { redirect, sendPage, type PageOptions } from '../http/pages';
import type { Logger } from '../logger';
import { safeReturnPath, SIGN_IN_CALLBACK_PATH, SIGN_IN_PATH } from './sign-in-gate';
import { isBindDigest } from './sign-in-binding';
import { FLOW_COOKIE, FLOW_MAX_AGE_S, type FlowSeal } from './sign-in-flow-state';
import { HANDOFF_MAX_AGE_S, IDENTITY_COOKIE, type SignedValues } from './sign-in-tokens';

type OpenIdClient = typeof import('openid-client');

export type SignInFlow = ReturnType<typeof createSignInFlow>;

interface SignInFlowOptions {
  oidc: OidcOptions;
  signed: SignedValues;
  /** Seals each sign-in in progress into its browser's cookie. */
  flows: FlowSeal;
  /** The server's public URL (the apex). */
  publicUrl: string;
  /** A session's public URL, `http://<id>.<domain>/`. */
  sessionUrl: (sessionId: string) => string;
  secureCookie: boolean;
  /** How long one sign-in lasts, seconds. */
  signInTtlS: number;
  logger: Logger;
}

/** The innermost message of an error and its causes (openid-client wraps oauth4webapi's, which names the claim or check that failed). */
function mostSpecific(err: unknown): string {
  let message = String(err);
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) message = e.message;
  return message;
}

const failed = (message: string): PageOptions => ({ status: 400, title: 'Sign-in failed', message, code: 'ERR_SIGN_IN_FAILED' });

export function createSignInFlow(options: SignInFlowOptions) {
  const { oidc, signed, logger } = options;
  const apex = options.publicUrl.replace(/\/$/, '');
  const redirectUri = `${apex}${SIGN_IN_CALLBACK_PATH}`;
  // Loaded and discovered on the first sign-in (the issuer need not be up when the server starts); a failure is retried next time.
  let configuration: Promise<{ lib: OpenIdClient; config: import('openid-client').Configuration }> | undefined;
  const discover = () =>
    (configuration ??= (async () => {
      const lib = await import('openid-client');
      const insecure = new URL(oidc.issuer).protocol === 'http:';
      const config = await lib.discovery(
        new URL(oidc.issuer),
        oidc.clientId,
        oidc.clientSecret,
        undefined,
        // http:// only for an issuer on a loopback host (config.ts refuses any other): a local test or development provider.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        insecure ? { execute: [lib.allowInsecureRequests] } : {},
      );
      // Check every ID token's signature against the issuer's JWKS too (openid-client skips it by default for
      // tokens straight from the token endpoint over TLS): a forged or substituted token is refused whatever the transport.
      lib.enableNonRepudiationChecks(config);
      return { lib, config };
    })().catch((err: unknown) => {
      configuration = undefined;
      throw err;
    }));

  const cookie = (name: string, value: string, maxAgeS: number, path?: string) => ownCookie(name, value, options.secureCookie, maxAgeS, path);
  /** SIGN_IN_PATH on the session's own origin, with `query`. */
  const atSession = (sessionId: string, query: string) => `${options.sessionUrl(sessionId).replace(/\/$/, '')}${SIGN_IN_PATH}?${query}`;

  /** 302 to the session origin's hand-off, which earns that origin its cookie in the browser bound by `bind`. */
  const handOff = (res: ServerResponse, to: { sessionId: string; returnPath: string; bind: string }, email: string, setCookie?: string[]) => {
    const { sessionId, returnPath, bind } = to;
    const token = signed.sign('handoff', {
      e: email,
      s: sessionId,
      r: returnPath,
      b: bind,
      n: randomBytes(16).toString('base64url'),
      x: Math.floor(Date.now() / 1000) + HANDOFF_MAX_AGE_S,
    });
    redirect(res, atSession(sessionId, `t=${encodeURIComponent(token)}`), setCookie);
  };

  /** The issuer's configuration; undefined once a discovery that failed was answered. */
  const discovered = (res: ServerResponse) =>
    discover().catch((err: unknown) => {
      logger.warn({ err, issuer: oidc.issuer }, 'OpenID Connect discovery failed');
      sendPage(res, {
        status: 502,
        title: 'Sign-in unavailable',
        message: `This Wingman server cannot reach its identity provider (${oidc.issuer}) right now. Try again in a minute; if it lasts, tell the server's operator.`,
        code: 'ERR_SIGN_IN_FAILED',
      });
      return undefined;
    });

  async function start(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const sessionId = query.get('session') ?? '';
    if (!isSessionLabel(sessionId)) return sendPage(res, failed('This sign-in link names no session. Open the link the developer shared.'));
    const returnPath = safeReturnPath(query.get('return'));
    const switchAccount = query.get('switch') === '1';
    const bind = query.get('bind');
    // Not started on the session's origin: go there first, so that the sign-in is bound to this browser.
    if (!isBindDigest(bind)) return redirect(res, atSession(sessionId, `return=${encodeURIComponent(returnPath)}${switchAccount ? '&switch=1' : ''}`));
    const identity = switchAccount ? undefined : signed.verify('identity', requestCookie(req, IDENTITY_COOKIE));
    if (identity) return handOff(res, { sessionId, returnPath, bind }, identity.e);
    const found = await discovered(res);
    if (!found) return;
    const { lib, config } = found;
    const state = lib.randomState();
    const nonce = lib.randomNonce();
    const codeVerifier = lib.randomPKCECodeVerifier();
    const url = lib.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email',
      code_challenge: await lib.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // Another account: the provider asks again instead of reusing its own session; otherwise the operator's OIDC_PROMPT.
      ...(switchAccount ? { prompt: 'login' } : oidc.prompt ? { prompt: oidc.prompt } : {}),
    });
    redirect(res, url.href, cookie(FLOW_COOKIE, options.flows.seal({ state, nonce, codeVerifier, sessionId, returnPath, bind }), FLOW_MAX_AGE_S, SIGN_IN_PATH));
  }

  async function callback(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const state = query.get('state') ?? '';
    const held = requestCookie(req, FLOW_COOKIE);
    // Used once: every answer to this callback clears the flow, so a replayed callback finds none.
    if (held !== undefined) res.setHeader('set-cookie', cookie(FLOW_COOKIE, '', 0, SIGN_IN_PATH));
    const started = options.flows.open(held);
    const fail = (message: string) => sendPage(res, failed(message));
    if (!started)
      return fail(
        'This sign-in answer was already used, is older than 10 minutes, or was started in another browser (or this browser did not keep its cookie), so nobody was signed in. Open the link the developer shared, in this browser, to sign in again.',
      );
    // Another sign-in's answer (an attacker's own, sent to this browser; or one this browser started before its latest).
    if (started.state !== state)
      return fail(
        'This sign-in answer is not for the sign-in this browser started, so nobody was signed in. Open the link the developer shared, in this browser, to sign in again.',
      );
    const issuerError = query.get('error');
    if (issuerError !== null)
      return fail(`The identity provider refused the sign-in: ${issuerError}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}.`);
    const found = await discovered(res);
    if (!found) return;
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await found.lib.authorizationCodeGrant(found.config, new URL(req.url ?? '/', `${apex}/`), {
        pkceCodeVerifier: started.codeVerifier,
        expectedState: state,
        expectedNonce: started.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
      // Providers that keep the ID token lean (oidc-provider's default, some Entra set-ups) give the email at the userinfo endpoint, for the same subject.
      if (claims && typeof claims.email !== 'string') claims = await found.lib.fetchUserInfo(found.config, tokens.access_token, String(claims.sub));
    } catch (err) {
      logger.info({ err, sessionId: started.sessionId }, 'sign-in refused: the identity provider answer did not verify');
      return fail(`The identity provider's answer did not verify, so nobody was signed in: ${mostSpecific(err)}.`);
    }
    const email = typeof claims?.email === 'string' ? claims.email.toLowerCase() : undefined;
    if (!email) return fail('The identity provider sent no email for this account (the server asks for the `email` scope).');
    if (claims!.email_verified !== true) return fail(`The identity provider does not say that ${email} is verified, so it cannot be used to sign in here.`);
    logger.info({ sessionId: started.sessionId, email }, 'viewer signed in');
    const identity = signed.sign('identity', { e: email, x: Math.floor(Date.now() / 1000) + options.signInTtlS });
    handOff(res, started, email, [cookie(IDENTITY_COOKIE, identity, options.signInTtlS), cookie(FLOW_COOKIE, '', 0, SIGN_IN_PATH)]);
  }

  return {
    /** Answers SIGN_IN_PATH and SIGN_IN_CALLBACK_PATH on the apex; false for any other path. */
    handle(req: IncomingMessage, res: ServerResponse): boolean {
      const url = new URL(req.url ?? '/', 'http://x');
      const run = url.pathname === SIGN_IN_PATH ? start : url.pathname === SIGN_IN_CALLBACK_PATH ? callback : undefined;
      if (!run) return false;
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET', 'content-length': 0 }).end();
        return true;
      }
      run(req, res, url.searchParams).catch((err: unknown) => {
        logger.error({ err }, 'sign-in failed');
        sendPage(res, { status: 500, title: 'Internal error', message: 'The Wingman server failed on this sign-in.', code: 'ERR_INTERNAL' });
      });
      return true;
    },
  };
}
