/**
 * Who holds which stable name, on one node: the claim rule (one name per
 * token, another token refused, a name in use never moved) and its file in
 * the state directory (kept across a reload, names of tokens no longer
 * configured forgotten, a malformed file left alone).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSessionLabel, sessionNameProblem } from '@wingman/protocol';
import { claimIn, loadNameStore, NAMES_FILE, ownerOf } from '../../src/sessions/session-names';

const alice = ownerOf('token-of-alice-0001');
const bob = ownerOf('token-of-bob-000002');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-names-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the claim rule', () => {
  it("gives a free name to its first token, refuses it to another, and moves a token's name only when the old one is not in use", () => {
    const names = new Map<string, string>();
    const inUse = new Set<string>();
    expect(claimIn(names, 'shop', alice, (n) => inUse.has(n))).toEqual({ kind: 'claimed' });
    expect(claimIn(names, 'shop', bob, (n) => inUse.has(n))).toEqual({ kind: 'taken' });
    expect(claimIn(names, 'shop', alice, (n) => inUse.has(n))).toEqual({ kind: 'claimed' });
    inUse.add('shop');
    expect(claimIn(names, 'cart', alice, (n) => inUse.has(n))).toEqual({ kind: 'limit', held: 'shop' });
    expect([...names]).toEqual([['shop', alice]]);
    inUse.clear();
    expect(claimIn(names, 'cart', alice, (n) => inUse.has(n))).toEqual({ kind: 'claimed' });
    expect([...names]).toEqual([['cart', alice]]);
    expect(claimIn(names, 'shop', bob, (n) => inUse.has(n))).toEqual({ kind: 'claimed' });
  });

  it('takes names that are valid DNS labels and never a session id', () => {
    expect(sessionNameProblem('shop-2')).toBeUndefined();
    expect(sessionNameProblem('a'.repeat(25))).toBeUndefined();
    expect(sessionNameProblem('a'.repeat(26))).toMatch(/3 to 25 characters/);
    expect(sessionNameProblem('2shop')).toMatch(/starting with a letter/);
    expect(sessionNameProblem('shop-')).toMatch(/not ending with a hyphen/);
    expect(sessionNameProblem('sh_op')).toMatch(/lower-case letters/);
    expect(sessionNameProblem('api')).toMatch(/reserved/);
    expect(isSessionLabel('abcdefghijklmnopqrstuvwxyz')).toBe(true);
    expect(isSessionLabel('www')).toBe(false);
  });
});

describe('the names file', () => {
  it('keeps claims across a reload, stores no token, and forgets the names of tokens no longer configured', async () => {
    const first = loadNameStore(dir, new Set([alice, bob]), () => false);
    await first.store.claim('shop', alice);
    await first.store.claim('cart', bob);
    const text = readFileSync(join(dir, NAMES_FILE), 'utf8');
    expect(text).not.toContain('token-of');
    const again = loadNameStore(dir, new Set([alice, bob]), () => false);
    expect(await again.store.claim('shop', bob)).toEqual({ kind: 'taken' });
    expect(await again.store.claimed('cart')).toBe(true);

    const withoutBob = loadNameStore(dir, new Set([alice]), () => false);
    expect(withoutBob).toMatchObject({ forgotten: 1 });
    expect(await withoutBob.store.claimed('cart')).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, NAMES_FILE), 'utf8'))).toEqual({ names: { shop: alice } });
  });

  it('leaves a malformed file alone and keeps names in memory, saying why', async () => {
    writeFileSync(join(dir, NAMES_FILE), '{"names": 3}');
    const loaded = loadNameStore(dir, new Set([alice]), () => false);
    expect('error' in loaded && loaded.error.message).toMatch(/does not hold \{"names": \{\.\.\.\}\}/);
    expect(await loaded.store.claim('shop', alice)).toEqual({ kind: 'claimed' });
    expect(readFileSync(join(dir, NAMES_FILE), 'utf8')).toBe('{"names": 3}');
  });
});
