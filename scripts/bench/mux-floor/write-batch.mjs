/**
 * One writev(2) per event-loop turn for a WebSocket's frames: the first frame
 * of a turn corks the socket under ws, `setImmediate` (after every I/O
 * callback of the turn) uncorks it. Frames queued by many callbacks of one
 * turn (50 responses arriving together) leave in one syscall, as the
 * product's protocol packs them; a lone frame waits for nothing but the turn.
 * @param {import('ws').WebSocket} ws
 * @returns {(buf: Buffer) => void} sends one binary message
 */
export function createBatchedSender(ws) {
  let corked = false;
  const uncork = () => {
    corked = false;
    // ws keeps its socket in _socket (ws 8); nested cork() calls count, so ws's own cork/uncork per frame stays inside ours.
    ws._socket?.uncork();
  };
  return (buf) => {
    if (!corked && ws._socket) {
      corked = true;
      ws._socket.cork();
      setImmediate(uncork);
    }
    ws.send(buf);
  };
}
