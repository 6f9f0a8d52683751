import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A real HTTP server on loopback that serves a feed-source directory, with
 * scripted faults per path: answer a status, hang (never answer), cut the
 * body off half-way (connection reset under a full Content-Length), stall
 * half-way (headers and half the body, then silence with the connection
 * open), or truncate (chunked, half the body, then a clean end: nothing at
 * the HTTP level tells the client it is short). It counts requests and
 * records Authorization headers.
 */
export type Fault = { status: number } | 'hang' | 'cut' | 'stall' | 'truncate';

export interface HttpSource {
  readonly url: string;
  readonly requests: Map<string, number>;
  readonly authorizations: (string | undefined)[];
  /** Faults for a path, used in order, one per request; afterwards requests succeed. */
  fail(path: string, ...faults: Fault[]): void;
  /** Forgets every fault not used yet and drops hung or stalled responses. */
  clear(): void;
  close(): Promise<void>;
}

export async function serveSource(dir: string, options: { token?: string } = {}): Promise<HttpSource> {
  const faults = new Map<string, Fault[]>();
  const requests = new Map<string, number>();
  const authorizations: (string | undefined)[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/feeds\//, '');
      requests.set(path, (requests.get(path) ?? 0) + 1);
      authorizations.push(req.headers.authorization);
      if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
        res.writeHead(401).end();
        return;
      }
      const fault = faults.get(path)?.shift();
      if (fault === 'hang') {
        hanging.add(res);
        return;
      }
      if (typeof fault === 'object') {
        res.writeHead(fault.status).end();
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(join(dir, path));
      } catch {
        res.writeHead(404).end();
        return;
      }
      if (fault === 'cut') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        res.socket?.destroy();
        return;
      }
      if (fault === 'stall') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        hanging.add(res);
        return;
      }
      if (fault === 'truncate') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.end(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/feeds/`,
    requests,
    authorizations,
    fail(path, ...list) {
      faults.set(path, [...(faults.get(path) ?? []), ...list]);
    },
    clear() {
      faults.clear();
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
