/** The P2P host's claims on exchange ids: each goes to the agent and resolves with its answer; bounded in number and time; unanswered when the agent is gone. */
import { CLAIM_ANSWER_TIMEOUT_MS, createClaimClient, MAX_PENDING_CLAIMS } from '../../src/p2p/claim-client';
import type { FromHost } from '../../src/p2p/host-ipc';

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';

function client() {
  const sent: FromHost[] = [];
  return { sent, claims: createClaimClient((m) => sent.push(m)) };
}

describe('claim client', () => {
  afterEach(() => jest.useRealTimers());

  it('sends each claim with its own sequence number and resolves it with the agent’s answer to that number', async () => {
    const { sent, claims } = client();
    const first = claims.claim('v', ID);
    const second = claims.claim('w', ID);
    expect(sent).toEqual([
      { t: 'claim', seq: 0, viewerId: 'v', id: ID },
      { t: 'claim', seq: 1, viewerId: 'w', id: ID },
    ]);
    claims.answered(1, false);
    claims.answered(0, true);
    claims.answered(0, false);
    await expect(first).resolves.toBe(true);
    await expect(second).resolves.toBe(false);
    claims.ended('v', ID);
    expect(sent[2]).toEqual({ t: 'claim-ended', viewerId: 'v', id: ID });
  });

  it('leaves a claim unanswered after CLAIM_ANSWER_TIMEOUT_MS', async () => {
    jest.useFakeTimers();
    const { claims } = client();
    const claim = claims.claim('v', ID);
    jest.advanceTimersByTime(CLAIM_ANSWER_TIMEOUT_MS);
    await expect(claim).resolves.toBeUndefined();
  });

  it('leaves every waiting claim unanswered when the agent is gone, and one past MAX_PENDING_CLAIMS at once', async () => {
    const { sent, claims } = client();
    const waiting = Array.from({ length: MAX_PENDING_CLAIMS }, () => claims.claim('v', ID));
    await expect(claims.claim('v', ID)).resolves.toBeUndefined();
    expect(sent).toHaveLength(MAX_PENDING_CLAIMS);
    claims.closeAll();
    expect(new Set(await Promise.all(waiting))).toEqual(new Set([undefined]));
  });
});
