/** The bootstrap page's HMAC-SHA-256 for pages without WebCrypto (access/link-bootstrap.ts), against node:crypto. */
import { createHmac, randomBytes } from 'node:crypto';
import { LINK_ACCESS_LABEL } from '@wingman/protocol';
import { FALLBACK_HMAC_SOURCE } from '../../src/access/link-bootstrap';

type Hmac = (key: Uint8Array, msg: Uint8Array) => Uint8Array;
// The page runs the source as it is; so does this test.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const hmacSha256 = new Function(`${FALLBACK_HMAC_SOURCE}\nreturn hmacSha256;`)() as Hmac;

describe('the bootstrap page’s HMAC-SHA-256 without WebCrypto', () => {
  it('gives the token node:crypto gives, for link keys', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(16);
      expect(Buffer.from(hmacSha256(key, Buffer.from(LINK_ACCESS_LABEL))).toString('hex')).toBe(
        createHmac('sha256', key).update(LINK_ACCESS_LABEL).digest('hex'),
      );
    }
  });

  it.each([0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])('matches node:crypto for a %i-byte message (padding across block boundaries)', (n) => {
    const key = randomBytes(16);
    const msg = randomBytes(n);
    expect(Buffer.from(hmacSha256(key, msg)).toString('hex')).toBe(createHmac('sha256', key).update(msg).digest('hex'));
  });
});
