/**
 * The tab's resume record is read back from sessionStorage, which the app in
 * the frame shares (same origin): its kept session settings, which let the
 * next page load make its peer connections before the hello (signal
 * batches), are taken only in the shape keptSettings() writes.
 */
import { MAX_P2P_PEER_CONNECTIONS } from '@wingman/protocol';
import { keptSettings, validResumeRecord } from '../../src/page/resume-record';

const NOW = 1_800_000_000_000;
const record = { resume: 'q3Jb8XpZ0vW2mK9tR4sLcA', answer: 'v=0', ufrag: 'abcd', pwd: 'p'.repeat(24), at: NOW - 1000 };

describe('the resume record', () => {
  it('keeps STUN servers only, the video section and the peer connections from a hello', () => {
    const settings = keptSettings({
      iceServers: [{ urls: ['stun:192.0.2.1:3478', 'turn:192.0.2.1:3478'], username: 'u', credential: 'c' }, { urls: ['turns:192.0.2.1:5349'] }],
      videoSection: true,
      peerConnections: 2,
    });
    expect(settings).toEqual({ stunUrls: ['stun:192.0.2.1:3478'], videoSection: true, peerConnections: 2 });
    expect(validResumeRecord({ ...record, settings }, NOW)).toEqual({ ...record, settings });
    expect(keptSettings({ iceServers: [] })).toEqual({ stunUrls: [], videoSection: false, peerConnections: 1 });
  });

  it('drops settings of another shape and keeps the rest of the record', () => {
    const good = { stunUrls: ['stun:192.0.2.1:3478'], videoSection: false, peerConnections: 1 };
    for (const settings of [
      { ...good, stunUrls: ['turn:192.0.2.1:3478'] },
      { ...good, stunUrls: Array.from({ length: 9 }, () => 'stun:192.0.2.1') },
      { ...good, stunUrls: ['stun:' + 'x'.repeat(600)] },
      { ...good, peerConnections: 0 },
      { ...good, peerConnections: MAX_P2P_PEER_CONNECTIONS + 1 },
      { ...good, peerConnections: 1.5 },
      { ...good, videoSection: 'yes' },
      'stun:192.0.2.1',
    ]) {
      expect(validResumeRecord({ ...record, settings }, NOW)).toEqual(record);
    }
  });
});
