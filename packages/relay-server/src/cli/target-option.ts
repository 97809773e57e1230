/**
 * The local app `wingman http` shares (`3000`, `localhost:3000`, `[::1]:8000`,
 * an http(s) URL) and, for https, the trust decision for its certificate
 * (forward/target.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { Target } from '../forward';
import { isLoopbackHost } from '../loopback-host';
import { readUserFile, UsageError } from './usage-error';

/** Largest --target-ca file read, bytes: a CA bundle of a few dozen certificates. */
const MAX_TARGET_CA_BYTES = 1_048_576;

const HOST_PORT = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?([0-9]{1,5})$/;

/** `3000`, `localhost:3000`, `127.0.0.1:3000`, `[::1]:3000`, `http://localhost:3000`, `https://localhost:8443`. Host defaults to localhost. */
export function parseTarget(text: string): Target {
  const trimmed = text.trim();
  const scheme = /^(https?):\/\//i.exec(trimmed)?.[1]?.toLowerCase() as 'http' | 'https' | undefined;
  const rest = scheme ? trimmed.slice(scheme.length + 3).replace(/\/$/, '') : trimmed;
  const m = HOST_PORT.exec(rest);
  // A URL may leave the port to its scheme's default; a bare target must name it.
  const bareHost = scheme && !m ? /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.exec(rest) : null;
  if (!m && !bareHost) {
    throw new UsageError(`invalid target "${text}": expected <port>, <host:port> or an http(s) URL, e.g. 3000, localhost:3000 or https://localhost:8443`);
  }
  const hostText = m ? m[1] : bareHost![1];
  const port = m ? Number(m[2]) : scheme === 'https' ? 443 : 80;
  if (port < 1 || port > 65535) throw new UsageError(`invalid port ${m![2]}: expected 1-65535`);
  const host = hostText ? hostText.replace(/^\[|\]$/g, '') : 'localhost';
  return scheme === 'https' ? { host, port, scheme } : { host, port };
}

/** The PEM certificates of a --target-ca file, each checked to parse as X.509. */
function readTargetCa(path: string): string {
  const text = readUserFile(path, '--target-ca ');
  if (text.length > MAX_TARGET_CA_BYTES) throw new UsageError(`invalid --target-ca ${path}: larger than ${MAX_TARGET_CA_BYTES} bytes`);
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new UsageError(`invalid --target-ca ${path}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new UsageError(`invalid --target-ca ${path}: a certificate does not parse (${(err as Error).message})`);
    }
  }
  return pems.join('\n');
}

export interface TargetFlags {
  /** --target-ca <file>: PEM certificates trusted for an https target, besides Node's store. */
  targetCa?: string;
  /** --target-insecure: an https loopback target's certificate accepted unverified. */
  targetInsecure?: boolean;
}

/** The target with its TLS trust decision; the flags only go with an https target, --target-insecure only with a loopback one. */
export function resolveTarget(text: string, flags: TargetFlags): Target {
  const target = parseTarget(text);
  const insecure = flags.targetInsecure === true;
  if (target.scheme !== 'https' && (flags.targetCa !== undefined || insecure)) {
    throw new UsageError(`${insecure ? '--target-insecure' : '--target-ca'} is for an https target, e.g. https://localhost:8443`);
  }
  if (insecure && flags.targetCa !== undefined) throw new UsageError('give --target-ca or --target-insecure, not both');
  if (insecure && !isLoopbackHost(target.host)) {
    throw new UsageError(`--target-insecure only for a loopback target (localhost, 127.0.0.1, [::1]), not ${target.host}: give its CA with --target-ca`);
  }
  if (insecure) return { ...target, insecure };
  return flags.targetCa === undefined ? target : { ...target, ca: readTargetCa(flags.targetCa) };
}
