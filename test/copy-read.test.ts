import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyScan } from '../services/db/copy.read.js';
import type { Database } from '../services/db/database.js';
import { createTestDatabase } from './harness/db.js';

let database: Database;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/** Runs a test on one connection of the pool, released afterwards whatever happens. */
async function withClient(test: (client: PoolClient) => Promise<void>): Promise<void> {
  const client = await database.pool.connect();
  try {
    await test(client);
  } finally {
    client.release();
  }
}

describe('copyScan reads COPY text in place', () => {
  it('numbers, NULLs, escaped text, months, and rows split across chunks', () =>
    withClient(async (client) => {
      const got: unknown[] = [];
      const n = await copyScan(
        client,
        `SELECT i, -i, CASE WHEN i % 3 = 0 THEN NULL ELSE i END, (i * 1.25)::numeric(16,2), -(i * 0.5)::numeric(8,1),
                CASE WHEN i = 2 THEN E'名\\t称\\n第二行\\\\' WHEN i = 4 THEN NULL ELSE '企业' || i END,
                'X' || lpad(i::text, 6, '0'), ('2025-01-01'::date + make_interval(months => i % 14))::date
           FROM generate_series(1, 60000) g(i) ORDER BY g.i`,
        (r) => got.push([r.int(), r.int(), r.int(-7), r.num(), r.num(), r.text(), r.ascii(), r.month()]),
      );
      expect(n).toBe(60_000);
      expect(got[0]).toEqual([1, -1, 1, 1.25, -0.5, '企业1', 'X000001', 2025 * 12 + 1]);
      expect(got[1]).toEqual([2, -2, 2, 2.5, -1, '名\t称\n第二行\\', 'X000002', 2025 * 12 + 2]);
      expect(got[2]).toEqual([3, -3, -7, 3.75, -1.5, '企业3', 'X000003', 2025 * 12 + 3]);
      expect(got[3]).toEqual([4, -4, 4, 5, -2, null, 'X000004', 2025 * 12 + 4]);
      expect(got[59_999]).toEqual([60_000, -60_000, -7, 75_000, -30_000, '企业60000', 'X060000', 2025 * 12 + (60_000 % 14)]);
    }));

  it('skipIf matches a whole field only, and stays put when it does not match', () =>
    withClient(async (client) => {
      const got: unknown[] = [];
      await copyScan(client, `SELECT 'AB12', 7 UNION ALL SELECT 'AB1', 8 UNION ALL SELECT 'AB123', 9`, (r) => {
        const a = r.skipIf('AB12');
        got.push([a, a ? null : r.ascii(), r.int()]);
      });
      expect(got).toEqual([[true, null, 7], [false, 'AB1', 8], [false, 'AB123', 9]]);
    }));

  it('refuses a field that is not the integer the reader expects', () =>
    withClient(async (client) => {
      await expect(copyScan(client, `SELECT 'abc'::text`, (r) => void r.int())).rejects.toThrow('COPY field is not an integer: "abc"');
    }));

  it('a server error part-way rejects with its message, and the connection is usable after it', () =>
    withClient(async (client) => {
      let seen = 0;
      await expect(copyScan(client, `SELECT 1 / (i - 50000) FROM generate_series(1, 60000) g(i)`, () => void seen++)).rejects.toThrow('division by zero');
      expect(seen).toBeLessThan(50_000);
      await expect(copyScan(client, `SELECT nonsense FROM`, () => undefined)).rejects.toThrow(/syntax error/);
      expect((await client.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n).toBe(42);
    }));

  it("after the callback's own error the rest is drained, and the next query on the connection gets its own answer", () =>
    withClient(async (client) => {
      let calls = 0;
      const failing = copyScan(client, `SELECT i FROM generate_series(1, 100000) g(i)`, (r) => {
        calls++;
        if (r.int() === 10) throw new Error('row 10 is unreadable');
      });
      await expect(failing).rejects.toThrow('row 10 is unreadable');
      expect(calls).toBe(10);
      let sum = 0;
      expect(await copyScan(client, `SELECT i FROM generate_series(1, 1000) g(i)`, (r) => void (sum += r.int()))).toBe(1000);
      expect(sum).toBe(500_500);
    }));

  it('a notice in the middle of the rows loses none of them', () =>
    withClient(async (client) => {
      await client.query(`CREATE FUNCTION pg_temp.noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN IF i % 20000 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
      const notices: string[] = [];
      const onNotice = (n: { message?: string }): void => void notices.push(n.message ?? '');
      client.on('notice', onNotice);
      let sum = 0;
      const n = await copyScan(client, `SELECT pg_temp.noisy(i), 'x' || i FROM generate_series(1, 60000) g(i)`, (r) => {
        const v = r.int();
        if (r.ascii() !== `x${v}`) throw new Error(`row ${v} misread`);
        sum += v;
      });
      client.off('notice', onNotice);
      expect(n).toBe(60_000);
      expect(sum).toBe((60_000 * 60_001) / 2);
      expect(notices).toEqual(['row 20000', 'row 40000', 'row 60000']);
    }));
});
