/**
 * What a viewer whose address the session's rules refuse gets (address-rules.ts): a 403 page that says why and shows
 * the address the server saw (behind a proxy, the one it resolved), or for an upgrade the same as raw text. The
 * session's CIDRs are not shown: they describe the developer's networks.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendPage, type PageOptions } from '../http/pages';
import { writeRawText } from '../http/raw-response';
import type { AddressVerdict } from './address-rules';

type Refusal = Extract<AddressVerdict, { kind: 'refused' }>;

const WHY: Record<Refusal['reason'], string> = {
  denied: 'the developer who shared this app refused the network it comes from',
  'not-allowed': 'the developer who shared this app opened it only to certain networks, and it is not on one of them',
  unreadable: 'it is not an IP address, so the developer’s address rules cannot be applied to it',
};

function addressRefusalPage(verdict: Refusal): PageOptions {
  return {
    status: 403,
    title: 'Your address may not open this link',
    message: `This server sees your request coming from ${verdict.address || 'an unknown address'}: ${WHY[verdict.reason]}. Connect from an allowed network (the office, its VPN), or ask the developer.`,
    code: 'ERR_ADDRESS_REFUSED',
  };
}

export function sendAddressRefusal(res: ServerResponse, verdict: Refusal): void {
  sendPage(res, addressRefusalPage(verdict));
}

export function writeAddressRefusal(socket: Duplex, verdict: Refusal): void {
  const p = addressRefusalPage(verdict);
  writeRawText(socket, p.status, `${p.title}: ${p.message} (${p.code})`);
}
