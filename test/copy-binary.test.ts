import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCopyRows } from '../services/db/copy.binary.js';
import { dayNumber } from '../services/domain/period.js';
import type { Database } from '../services/db/database.js';
import { createTestDatabase } from './harness/db.js';

let database: Database;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const ALL = 'd, s, i, b, r, c, t, v, a, j, x';

/** Writes rows through binary COPY into the given columns of a fresh temporary table and reads every column back as PostgreSQL prints it. */
async function roundTrip(columns: string, write: (out: BinaryCopyRows) => void): Promise<Record<string, unknown>[]> {
  const client = await database.pool.connect();
  try {
    await client.query(`CREATE TEMP TABLE bin (n serial, d date, s smallint, i integer, b bigint, r real, c char(6), t text, v varchar(3), a text[], j jsonb, x bytea) ON COMMIT PRESERVE ROWS`);
    const out = new BinaryCopyRows();
    write(out);
    await pipeline(Readable.from(out.take()), client.query(copyFrom(`COPY bin (${columns}) FROM STDIN (FORMAT binary)`)));
    const r = await client.query<Record<string, unknown>>(`SELECT d::text AS d, s, i, b::text AS b, r::text AS r, c, t, v, a, j::text AS j, encode(x, 'hex') AS x FROM bin ORDER BY n`);
    return r.rows;
  } finally {
    await client.query('DROP TABLE IF EXISTS bin').catch(() => undefined);
    client.release();
  }
}

describe('BinaryCopyRows writes COPY binary rows PostgreSQL reads back as written', () => {
  it('every type the scoring writes, NULLs, text that COPY text would have to escape, and an empty array', async () => {
    const rows = await roundTrip(ALL, (out) => {
      out.row(11);
      out.date(dayNumber('2026-10-01') ?? Number.NaN);
      out.int16(-32_768);
      out.int32(2_147_483_647);
      out.int64(2 ** 40 + 7);
      out.float4(0.0123);
      out.text('510100');
      out.text('四川\t"name"\\\nnext');
      out.text('C13');
      out.textArray(['law41', 'a "quoted", \\ one', '裁员']);
      out.jsonb(JSON.stringify({ reasons: ['规模裁员'], n: 3 }));
      out.bytes(Uint8Array.from([0, 255, 10, 9, 92]));
      out.row(11);
      out.date(dayNumber('1999-12-31') ?? Number.NaN);
      for (let k = 0; k < 4; k++) out.null();
      out.text('5101');
      out.null();
      out.null();
      out.textArray([]);
      out.null();
      out.bytes(new Uint8Array(0));
    });
    expect(rows).toEqual([
      { d: '2026-10-01', s: -32_768, i: 2_147_483_647, b: String(2 ** 40 + 7), r: '0.0123', c: '510100', t: '四川\t"name"\\\nnext', v: 'C13', a: ['law41', 'a "quoted", \\ one', '裁员'], j: '{"n": 3, "reasons": ["规模裁员"]}', x: '00ff0a095c' },
      { d: '1999-12-31', s: null, i: null, b: null, r: null, c: '5101  ', t: null, v: null, a: [], j: null, x: '' },
    ]);
  });

  it('rows past one buffer, and a field larger than a buffer, arrive whole and in order', async () => {
    const big = 'x'.repeat(1_500_000);
    const rows = await roundTrip('i, t', (out) => {
      for (let k = 0; k < 20_000; k++) {
        out.row(2);
        out.int32(k);
        out.text(k === 12_345 ? big : `row ${k} 行`);
      }
    });
    expect(rows).toHaveLength(20_000);
    expect(rows.every((r, k) => r['i'] === k && r['t'] === (k === 12_345 ? big : `row ${k} 行`))).toBe(true);
  });

  it('refuses a value its column type cannot hold, naming it, and a day that is not a whole number', () => {
    const out = new BinaryCopyRows();
    expect(() => out.int16(40_000)).toThrow('binary COPY: 40000 is not a smallint');
    expect(() => out.int32(1.5)).toThrow('binary COPY: 1.5 is not an integer');
    expect(() => out.int32(Number.NaN)).toThrow('binary COPY: NaN is not an integer');
    expect(() => out.int64(2 ** 60)).toThrow('not a safe integer');
    expect(() => out.date(Number.NaN)).toThrow('binary COPY: NaN is not a day number');
    expect(() => out.date(0.5)).toThrow('binary COPY: 0.5 is not a day number');
  });
});
