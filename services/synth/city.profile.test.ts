import { describe, expect, it } from 'vitest';
import { districtName } from '../domain/names.js';
import { CITY_PROFILES } from './city.profile.js';

describe('city profiles', () => {
  it('give employers only region codes that have a name (the city itself, or one of its county-level units)', () => {
    const codes = CITY_PROFILES.flatMap((c) => ['00', ...c.counties].map((suffix) => c.code.slice(0, 4) + suffix));
    expect(codes.filter((code) => districtName(code) === undefined)).toEqual([]);
  });
});
