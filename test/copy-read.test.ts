import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCopyRows } from '../services/db/copy.binary.js';
import { BinaryRows, copyScan, copyScanBinary, type BinaryFields } from '../services/db/copy.read.js';
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

describe('copyScanBinary reads COPY binary in place', () => {
  it('integers of each width, NULLs, text, char and bytea, and rows split across network chunks', () =>
    withClient(async (client) => {
      const got: unknown[] = [];
      const n = await copyScanBinary(
        client,
        `SELECT i::smallint, -i * 100000, (i::bigint - 3) * 4294967296 + 5, CASE WHEN i = 2 THEN NULL ELSE '四川\t' || i END, ('C' || i)::char(4), decode(lpad(to_hex(i), 4, '0'), 'hex'), NULL::int
           FROM generate_series(1, 3) g(i)`,
        (r) => void got.push([r.int(), r.int(), r.int(), r.text(), r.ascii(), Buffer.from(r.bytea() ?? []).toString('hex'), r.int(-7)]),
      );
      expect(n).toBe(3);
      expect(got).toEqual([
        [1, -100_000, -2 * 4_294_967_296 + 5, '四川\t1', 'C1  ', '0001', -7],
        [2, -200_000, -4_294_967_296 + 5, null, 'C2  ', '0002', -7],
        [3, -300_000, 5, '四川\t3', 'C3  ', '0003', -7],
      ]);
      let sum = 0;
      let bytes = 0;
      expect(await copyScanBinary(client, `SELECT i, decode(repeat('ab', i % 700), 'hex') FROM generate_series(1, 60000) g(i)`, (r) => {
        sum += r.int();
        bytes += r.bytea()?.length ?? -1;
      })).toBe(60_000);
      expect(sum).toBe((60_000 * 60_001) / 2);
      let want = 0;
      for (let i = 1; i <= 60_000; i++) want += i % 700;
      expect(bytes).toBe(want);
    }));

  it('a server error part-way rejects with its message, and a callback error drains the rest; the connection serves the next query', () =>
    withClient(async (client) => {
      await expect(copyScanBinary(client, `SELECT 1 / (i - 50000) FROM generate_series(1, 60000) g(i)`, () => undefined)).rejects.toThrow('division by zero');
      let calls = 0;
      const failing = copyScanBinary(client, `SELECT i FROM generate_series(1, 100000) g(i)`, (r) => {
        calls++;
        if (r.int() === 10) throw new Error('row 10 is unreadable');
      });
      await expect(failing).rejects.toThrow('row 10 is unreadable');
      expect(calls).toBe(10);
      await expect(copyScanBinary(client, `SELECT 'x'::text`, (r) => void r.int())).rejects.toThrow('COPY binary field of 1 bytes is not an integer');
      expect((await client.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n).toBe(42);
    }));
});

describe('BinaryRows frames rows however the bytes are cut', () => {
  /** A COPY binary stream of `rows` rows as BinaryCopyRows writes it. */
  function stream(rows: number): Buffer {
    const out = new BinaryCopyRows();
    for (let k = 0; k < rows; k++) {
      out.row(3);
      out.int32(k);
      if (k % 3 === 0) out.null();
      else out.text(`行 ${k}`);
      out.bytes(Buffer.alloc(k % 5, k));
    }
    return Buffer.concat(out.take());
  }
  const read = (r: BinaryFields): string => `${r.int()}|${r.text()}|${Buffer.from(r.bytea() ?? []).toString('hex')}`;

  it('every cut of the stream into two messages, and one byte a message, give the same rows', () => {
    const bytes = stream(7);
    const whole: string[] = [];
    const sink = new BinaryRows((r) => void whole.push(read(r)));
    expect(sink.bytes(bytes, 0, bytes.length) + sink.end()).toBe(7);
    expect(whole[1]).toBe('1|行 1|01');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: string[] = [];
      const s = new BinaryRows((r) => void got.push(read(r)));
      s.bytes(bytes, 0, cut);
      s.bytes(bytes, cut, bytes.length);
      s.end();
      expect(got).toEqual(whole);
    }
    const got: string[] = [];
    const s = new BinaryRows((r) => void got.push(read(r)));
    for (let p = 0; p < bytes.length; p++) s.bytes(bytes, p, p + 1);
    s.end();
    expect(got).toEqual(whole);
  });

  it('refuses a stream cut short, one without its signature, and bytes after the end marker, saying which', () => {
    const bytes = stream(3);
    const short = new BinaryRows(() => undefined);
    short.bytes(bytes, 0, bytes.length - 4);
    expect(() => short.end()).toThrow('COPY binary data ended inside a row');
    const unmarked = new BinaryRows(() => undefined);
    unmarked.bytes(bytes, 0, bytes.length - 2);
    expect(() => unmarked.end()).toThrow('COPY binary data ended without its end marker');
    const forged = Buffer.from(bytes);
    forged[0] = 0x51;
    expect(() => new BinaryRows(() => undefined).bytes(forged, 0, forged.length)).toThrow('does not start with its signature');
    const more = Buffer.concat([bytes, Buffer.from([0, 1])]);
    expect(() => new BinaryRows(() => undefined).bytes(more, 0, more.length)).toThrow('goes on after its end marker');
  });
});
