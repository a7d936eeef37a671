// A raw TCP exchange for tests: connect, send `raw` (if any), and collect everything received
// until the server closes, as latin1 text (bytes kept). Rejects when the connection fails.
import net from 'node:net';

export function exchange(port: number, raw?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    if (raw !== undefined) socket.write(raw);
  });
}
