import { describe, expect, it } from 'vitest';
import { CSV_BOM, csvField, csvLine } from './csv.js';

describe('CSV for spreadsheets', () => {
  it('neutralises text a spreadsheet would run as a formula', () => {
    expect(csvField("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(csvField('+1+1')).toBe("'+1+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    // Numbers are numbers: a negative count is not a formula.
    expect(csvField(-3)).toBe('-3');
  });

  it('quotes commas, quotes and line breaks, keeps Chinese as is', () => {
    expect(csvField('成都市,青羊区')).toBe('"成都市,青羊区"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('四川华恒商贸有限公司')).toBe('四川华恒商贸有限公司');
    expect(csvField(null)).toBe('');
    expect(csvField(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12-01T00:00:00.000Z');
  });

  it('ends lines with CRLF and starts files with a byte order mark', () => {
    expect(csvLine([1, 'a', null])).toBe('1,a,\r\n');
    expect(CSV_BOM).toBe('\uFEFF');
  });
});
