/**
 * The lab's `--udp-rcvbuf` experiment (scripts/lab/udp-rcvbuf): the library
 * compiled for real and preloaded into a real Node process, whose UDP socket
 * asks 256 KiB as libwebrtc does and gets the raised size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRcvbufBytes, preloadUdpRcvbuf } from '../../scripts/lab/udp-rcvbuf/udp-rcvbuf.mjs';

/** A UDP socket asking 256 KiB, printing the receive buffer the kernel gave it. */
const ASK_256_KIB =
  "const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>{s.setRecvBufferSize(262144);console.log(s.getRecvBufferSize());s.close()})";

describe('lab --udp-rcvbuf', () => {
  it('raises a UDP socket’s receive-buffer request in a process it is preloaded into, and only there', () => {
    // The lab's compiler (prereqs.mjs); without one the compile step fails saying so (apt-get install gcc).
    const compiler = 'cc';
    const dir = mkdtempSync(join(tmpdir(), 'wm-rcvbuf-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.LD_PRELOAD;
      const plain = Number(execFileSync(process.execPath, ['-e', ASK_256_KIB], { env, encoding: 'utf8' }));
      preloadUdpRcvbuf({ dir, compiler, bytes: 1024 * 1024, env });
      expect(env.WMLAB_UDP_RCVBUF_BYTES).toBe(String(1024 * 1024));
      const raised = Number(execFileSync(process.execPath, ['-e', ASK_256_KIB], { env, encoding: 'utf8' }));
      // The kernel doubles the request (capped by net.core.rmem_max).
      expect(plain).toBe(2 * 262144);
      expect(raised).toBeGreaterThan(plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a byte count in range only', () => {
    expect(parseRcvbufBytes('4194304')).toBe(4194304);
    for (const bad of ['', '1k', '100', '-1', String(2 ** 31)]) expect(() => parseRcvbufBytes(bad)).toThrow(/--udp-rcvbuf needs a byte count/);
  });
});
