import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EchoData, EchoThread } from './fixtures/echo.thread.js';
import { startThreadPool, type ThreadPoolOptions } from './pool.js';

const SCRIPT = new URL('./fixtures/echo.thread.mjs', import.meta.url);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ews-threads-'));

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function waitFor(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const start = (threads: number, data: EchoData = {}, more: Partial<ThreadPoolOptions<EchoThread>> = {}) =>
  startThreadPool<EchoThread>({ script: SCRIPT, data, threads, name: 'echo', ...more });

describe('startThreadPool with serveThread', () => {
  it("starts every thread, gives back each one's info, and answers tasks in flight at once", async () => {
    const { pool, info } = await start(2);
    try {
      expect(info).toEqual([{ thread: 'echo' }, { thread: 'echo' }]);
      expect(pool.live).toBe(2);
      const got = await Promise.all([pool.run({ wait: 60, echo: 'slow' }), pool.run({ echo: 'a' }), pool.run({ echo: 'b' }), pool.run({ wait: 10, echo: 'c' })]);
      expect(got).toEqual(['slow', 'a', 'b', 'c']);
    } finally {
      await pool.close();
    }
  });

  it("carries a thread's asks to the owner and the answers back, and an ask's error to the task", async () => {
    let asked = 0;
    const { pool } = await start(1, {}, {
      onAsk: (x) => {
        asked++;
        if (x.length === 0) return Promise.reject(new RangeError('nothing to double'));
        const y = x.map((v) => 2 * v);
        return Promise.resolve({ value: y, transfer: [y.buffer] });
      },
    });
    try {
      expect(await pool.run({ double: [1, 2.5, -3] })).toEqual([2, 5, -6]);
      const err: unknown = await pool.run({ double: [] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'RangeError', message: 'nothing to double' });
      expect(asked).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('refuses asks when the pool answers none', async () => {
    const { pool } = await start(1);
    try {
      await expect(pool.run({ double: [1] })).rejects.toThrow('the echo pool answers no asks');
    } finally {
      await pool.close();
    }
  });

  it("fails a task with the thread's error, its name kept or revived as asked, and the thread goes on", async () => {
    class Refused extends Error {
      override name = 'Refused';
    }
    const { pool } = await start(1, {}, { reviveError: (e) => (e.name === 'Refused' ? new Refused(e.message) : new Error(e.message)) });
    try {
      const err: unknown = await pool.run({ fail: 'Refused', message: 'bad artifact' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Refused);
      expect((err as Error).message).toBe('bad artifact');
      expect(await pool.run({ echo: 'still here' })).toBe('still here');
    } finally {
      await pool.close();
    }
  });

  it('fails in-flight tasks at once when a thread exits, and a new thread takes its place', async () => {
    const restarted: { index: number; reason: string; error?: string }[] = [];
    const { pool } = await start(1, {}, { onRestart: (e) => restarted.push(e) });
    try {
      await expect(pool.run({ exit: 3 })).rejects.toThrow('echo thread 0 exited with code 3; 1 in-flight request(s) failed');
      // The next task waits for the replacement instead of failing.
      expect(await pool.run({ echo: 'hello' })).toBe('hello');
      expect(pool.live).toBe(1);
      expect(pool.restarts).toBe(1);
      expect(restarted).toEqual([{ index: 0, reason: 'exited with code 3' }]);
    } finally {
      await pool.close();
    }
  });

  it('fails in-flight tasks when a thread crashes; the others keep serving and the crashed one is replaced', async () => {
    const { pool } = await start(2);
    try {
      await expect(pool.run({ crash: 'boom' })).rejects.toThrow('echo thread 0 crashed: boom; 1 in-flight request(s) failed');
      expect(await pool.run({ echo: 'other' })).toBe('other');
      await waitFor(() => pool.live === 2);
      expect(pool.restarts).toBe(1);
      expect(await Promise.all([pool.run({ wait: 20, echo: 'a' }), pool.run({ wait: 20, echo: 'b' })])).toEqual(['a', 'b']);
    } finally {
      await pool.close();
    }
  });

  it('stops replacing a thread that keeps dying (maxRestarts a minute) and then says why', async () => {
    const { pool } = await start(1, {}, { maxRestarts: 2 });
    try {
      for (let i = 0; i < 3; i++) await expect(pool.run({ exit: 4 })).rejects.toThrow('exited with code 4');
      await expect(pool.run({ echo: 'x' })).rejects.toThrow('echo pool has no live threads (thread 0 exited with code 4; not replaced: 2 threads replaced in the last minute)');
      expect(pool.restarts).toBe(2);
      expect(pool.live).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('rejects start-up with the error a thread met while starting', async () => {
    const err: unknown = await start(2, { failStart: 'no model' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StartError', message: 'no model' });
    await expect(start(0)).rejects.toThrow(RangeError);
  });

  it("closes gracefully: waits for tasks in flight, runs each thread's close, then refuses tasks", async () => {
    const marker = path.join(root, 'closed');
    const { pool } = await start(1, { closeMarker: marker, closeMs: 50 });
    const inFlight = pool.run({ wait: 100, echo: 'finished' });
    await pool.close();
    expect(await inFlight).toBe('finished');
    expect(fs.readFileSync(marker, 'utf8')).toBe('closed');
    expect(pool.live).toBe(0);
    await expect(pool.run({ echo: 'late' })).rejects.toThrow('echo pool is closed');
  });

  it('terminates a thread whose close takes longer than closeTimeoutMs', async () => {
    const marker = path.join(root, 'never');
    const { pool } = await start(1, { closeMarker: marker, closeMs: 10_000 }, { closeTimeoutMs: 100 });
    const t0 = performance.now();
    await pool.close();
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('terminate() stops at once, failing the tasks in flight', async () => {
    const { pool } = await start(1);
    const inFlight = pool.run({ wait: 10_000, echo: 'never' }).catch((e: unknown) => e);
    const t0 = performance.now();
    await pool.terminate();
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(await inFlight).toMatchObject({ message: 'echo thread 0 was stopped; 1 in-flight request(s) failed' });
    expect(pool.live).toBe(0);
    await expect(pool.run({ echo: 'late' })).rejects.toThrow('echo pool is closed');
    await pool.close();
  });
});
