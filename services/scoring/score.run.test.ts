import { describe, expect, it } from 'vitest';
import { planShards } from './score.run.js';

describe('planShards: the shards of a run (pure)', () => {
  it('covers all 256 buckets once in equal ranges, for the province or one city', () => {
    const four = planShards(4);
    expect(four).toEqual([
      { bucketFrom: 0, bucketTo: 63 }, { bucketFrom: 64, bucketTo: 127 }, { bucketFrom: 128, bucketTo: 191 }, { bucketFrom: 192, bucketTo: 255 },
    ]);
    expect(planShards(3, { city: '510100' }).map((s) => s.city)).toEqual(['510100', '510100', '510100']);
    const odd = planShards(7);
    expect(odd.reduce((n, s) => n + s.bucketTo - s.bucketFrom + 1, 0)).toBe(256);
    expect(odd.every((s, i) => i === 0 || s.bucketFrom === (odd[i - 1]?.bucketTo ?? -2) + 1)).toBe(true);
  });

  it('a catch-up scores each listed city in an eighth as many shards (at least one); no city listed: nothing', () => {
    const list = planShards(16, { cities: ['510100', '510300'] });
    expect(list).toHaveLength(4);
    expect(list.map((s) => s.city)).toEqual(['510100', '510100', '510300', '510300']);
    expect(planShards(4, { cities: ['510100'] })).toEqual([{ bucketFrom: 0, bucketTo: 255, city: '510100' }]);
    expect(planShards(16, { cities: [] })).toEqual([]);
  });

  it('marks every shard to be read from the facts when asked, and never otherwise', () => {
    expect(planShards(2, { fromFacts: true }).every((s) => s.fromFacts === true)).toBe(true);
    expect(planShards(2).some((s) => 'fromFacts' in s)).toBe(false);
  });
});
