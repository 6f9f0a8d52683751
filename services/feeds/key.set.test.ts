import { describe, expect, it } from 'vitest';
import { usccCheckChar } from '../domain/uscc.js';
import { FirstLineIndex } from './key.set.js';

const code = (i: number): string => {
  const f = `91510100MA${String(i).padStart(7, '0')}`;
  return f + (usccCheckChar(f) as string);
};

describe('FirstLineIndex', () => {
  it('remembers the first line of each key exactly, through growth', () => {
    const index = new FirstLineIndex();
    for (let i = 0; i < 200_000; i++) expect(index.firstLine(code(i), i + 2)).toBeUndefined();
    for (let i = 0; i < 200_000; i += 997) expect(index.firstLine(code(i), 999_999)).toBe(i + 2);
    // Codes that differ in one character are different keys.
    expect(index.firstLine('91510100MA0000000Y', 5)).toBeUndefined();
  });

  it('keeps other keys (filing ids, city codes) too', () => {
    const index = new FirstLineIndex();
    expect(index.firstLine('CD-2026-0001', 2)).toBeUndefined();
    expect(index.firstLine('510100', 3)).toBeUndefined();
    expect(index.firstLine('CD-2026-0001', 9)).toBe(2);
  });
});
