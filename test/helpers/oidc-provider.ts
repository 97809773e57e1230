/**
 * A real OpenID Provider for system tests (npm oidc-provider in a child
 * process on loopback, oidc-provider-child.mjs): its issuer, the client it
 * registered for `redirectUris` (one, or several: servers on several ports), and its test controls.
 */
import { join } from 'node:path';
import { startCommand, type Proc } from './processes';

const PROVIDER_CHILD = join(__dirname, 'oidc-provider-child.mjs');

export interface Provider {
  proc: Proc;
  issuer: string;
  /** The account the next sign-in at the provider is. */
  nextLogin(email: string): Promise<void>;
  /** How the token endpoint's ID tokens are changed from now on ('' : not at all). */
  tamper(how: '' | 'aud' | 'signature' | 'expired'): Promise<void>;
}

export async function startProvider(...redirectUris: [string, ...string[]]): Promise<Provider & { clientId: string; clientSecret: string }> {
  const proc = startCommand(process.execPath, [PROVIDER_CHILD, ...redirectUris]);
  const ev = await proc.waitForEvent('listening');
  const issuer = String(ev.issuer);
  const post = async (path: string, body: string) => {
    const res = await fetch(`${issuer}${path}`, { method: 'POST', body });
    if (res.status !== 204) throw new Error(`${path}: ${res.status}`);
  };
  return {
    proc,
    issuer,
    clientId: String(ev.clientId),
    clientSecret: String(ev.clientSecret),
    nextLogin: (email) => post('/__test/next-login', email),
    tamper: (how) => post('/__test/tamper', how),
  };
}
