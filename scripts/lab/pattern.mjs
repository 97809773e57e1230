/**
 * The deterministic body of the fixture app's /bytes?n=N: a 1 MiB
 * pseudo-random piece (xorshift32), repeated, each copy stamped with its
 * index in its first 4 bytes, so a reordered or repeated piece changes the
 * SHA-256. The app streams it; the reviewer driver knows the digest.
 */
import { createHash } from 'node:crypto';

export const PIECE_BYTES = 1024 * 1024;

let piece;
function basePiece() {
  if (!piece) {
    piece = Buffer.allocUnsafe(PIECE_BYTES);
    let x = 2463534242;
    for (let o = 0; o < PIECE_BYTES; o += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      piece.writeUInt32LE(x >>> 0, o);
    }
  }
  return piece;
}

/** Piece `i` of the body, truncated to `length` bytes (a fresh buffer). */
export function patternPiece(i, length = PIECE_BYTES) {
  const b = Buffer.from(basePiece().subarray(0, length));
  if (length >= 4) b.writeUInt32LE(i >>> 0, 0);
  return b;
}

/** SHA-256 (hex) of the first `total` bytes of the pattern. */
export function patternSha256(total) {
  const h = createHash('sha256');
  for (let i = 0, left = total; left > 0; i++, left -= PIECE_BYTES) h.update(patternPiece(i, Math.min(PIECE_BYTES, left)));
  return h.digest('hex');
}
