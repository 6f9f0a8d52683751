import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { until } from './wait.js';

/**
 * A redis-server of a test's own on a free port, started with the
 * arguments given (persistence, eviction policy), so stopping or
 * misconfiguring it disturbs nobody else. Resolves once it answers PING.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGTERM (the AOF, if any, is flushed), then wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same arguments. */
  start(): Promise<void>;
}

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

export async function startRedisServer(args: readonly string[] = ['--save', '', '--appendonly', 'no']): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: 'ignore' });
    const { Redis } = await import('ioredis');
    await until(async () => {
      const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    }, 20_000, `redis-server on port ${port} answering`);
  };
  const stop = (): Promise<void> =>
    new Promise((done) => {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return done();
      c.once('exit', () => done());
      c.kill('SIGTERM');
    });
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}
