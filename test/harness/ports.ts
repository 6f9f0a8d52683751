import { createServer } from 'node:net';

/** A loopback port free right now (nothing listens on it): for a server a test starts, or to point at a closed port. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}
