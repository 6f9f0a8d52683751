import { describe, expect, it } from 'vitest';
import { cumulative, Rng } from './random.js';

describe('Rng', () => {
  it('repeats a sequence for the same seed and stream, and differs otherwise', () => {
    const draw = (seed: number, stream: string) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.uint32());
    };
    expect(draw(1, 'a')).toEqual(draw(1, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(2, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
    // Seeds beyond 32 bits still matter.
    expect(draw(2 ** 40, 'a')).not.toEqual(draw(0, 'a'));
  });

  it('draws uniforms in [0, 1) with the right mean', () => {
    const r = new Rng(7, 'u');
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('gives Poisson, binomial and normal draws their textbook moments', () => {
    const r = new Rng(11, 'moments');
    const n = 50_000;
    const moments = (draw: () => number) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const x = draw();
        s += x;
        s2 += x * x;
      }
      const mean = s / n;
      return { mean, variance: s2 / n - mean * mean };
    };
    for (const lambda of [0.05, 3, 20, 400]) {
      const m = moments(() => r.poisson(lambda));
      expect(Math.abs(m.mean - lambda)).toBeLessThan(0.05 * lambda + 0.01);
      expect(Math.abs(m.variance - lambda)).toBeLessThan(0.1 * lambda + 0.01);
    }
    const b = moments(() => r.binomial(200, 0.3));
    expect(b.mean).toBeCloseTo(60, 0);
    expect(Math.abs(b.variance - 42)).toBeLessThan(4);
    for (let i = 0; i < 1000; i++) {
      const k = r.binomial(10, 0.5);
      expect(Number.isInteger(k) && k >= 0 && k <= 10).toBe(true);
    }
    const z = moments(() => r.normal());
    expect(Math.abs(z.mean)).toBeLessThan(0.03);
    expect(Math.abs(z.variance - 1)).toBeLessThan(0.05);
  });

  it('picks in proportion to the weights', () => {
    const r = new Rng(3, 'pick');
    const cum = cumulative([1, 0, 3]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const k = r.pickCumulative(cum);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[2] ?? 0) / (counts[0] ?? 1)).toBeGreaterThan(2.7);
    expect((counts[2] ?? 0) / (counts[0] ?? 1)).toBeLessThan(3.3);
  });
});
