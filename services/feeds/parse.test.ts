import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.parse.js';
import { parseJsonl } from './jsonl.parse.js';
import type { ParsedRecord } from './record.js';

function chunked(text: string, size: number): AsyncIterable<string> {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return (async function* () {
    for (const p of parts) yield await Promise.resolve(p);
  })();
}

async function all(gen: AsyncGenerator<ParsedRecord>) {
  const out = [];
  for await (const r of gen) out.push(r.ok ? { line: r.record.line, fields: r.record.columns.map((c) => r.record.get(c)), raw: r.record.raw } : { line: r.broken.line, problem: r.broken.problem, raw: r.broken.raw });
  return out;
}

describe('CSV', () => {
  const text = '\ufeffa,b,c\r\n1,"x, y",3\r\n\r\n2,"multi\nline ""quoted""",4\n5,6\n7,8,9';

  it('handles quoting, CRLF, BOM, blank lines, and records across lines, whatever the chunk size', async () => {
    const expected = [
      { line: 2, fields: ['1', 'x, y', '3'], raw: '1,"x, y",3' },
      { line: 4, fields: ['2', 'multi\nline "quoted"', '4'], raw: '2,"multi\nline ""quoted""",4' },
      { line: 6, problem: 'row has 2 fields, the header has 3', raw: '5,6' },
      { line: 7, fields: ['7', '8', '9'], raw: '7,8,9' },
    ];
    for (const size of [1, 2, 3, 7, 1000]) expect(await all(parseCsv(chunked(text, size)))).toEqual(expected);
  });

  it('reports a quote that never closes and carries on with the next line', async () => {
    const lines = ['a,b', '1,"oops', ...Array.from({ length: 60 }, (_, i) => `${i},x`)];
    const out = await all(parseCsv(chunked(lines.join('\n'), 64)));
    expect(out[0]).toEqual({ line: 2, problem: 'a quoted field is never closed (unbalanced ")', raw: '1,"oops' });
    expect(out).toHaveLength(61);
    expect(out[60]).toEqual({ line: 62, fields: ['59', 'x'], raw: '59,x' });
  });

  it('redacts named columns when rebuilding the raw text', async () => {
    for await (const p of parseCsv(chunked('name,phone\n"A, Ltd",13800138000\n', 5))) {
      if (p.ok) expect(p.record.redacted(new Set(['phone']))).toBe('"A, Ltd",[withheld]');
    }
  });

  it('refuses an empty file and a header naming a column twice', async () => {
    await expect(all(parseCsv(chunked('', 10)))).rejects.toThrow('file is empty: no header row');
    await expect(all(parseCsv(chunked('a,a\n1,2\n', 10)))).rejects.toThrow('header names column "a" twice');
  });
});

describe('JSON Lines', () => {
  it('reads objects, skips blank lines, and describes bad lines without quoting them', async () => {
    const text = '{"a":1,"b":"x"}\n\n{"a": 13800138000 oops}\n[1]\n{"a":null}\n';
    const out = await all(parseJsonl(chunked(text, 4)));
    expect(out).toEqual([
      { line: 1, fields: ['1', 'x'], raw: '{"a":1,"b":"x"}' },
      { line: 3, problem: "not valid JSON (Expected ',' or '}' after property value at character 19)", raw: '{"a": 13800138000 oops}' },
      { line: 4, problem: 'line is not a JSON object', raw: '[1]' },
      { line: 5, fields: [undefined], raw: '{"a":null}' },
    ]);
  });
});
