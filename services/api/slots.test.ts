import { describe, expect, it, vi } from 'vitest';
import { slots } from './slots.js';

describe('export slots', () => {
  it('lets `size` in at once, the next in turn as one leaves, and gives up on a waiter after its deadline', async () => {
    vi.useFakeTimers();
    try {
      const s = slots(2, 3);
      expect(await s.take(1_000)).toBe(true);
      expect(await s.take(1_000)).toBe(true);
      const third = s.take(1_000);
      const fourth = s.take(5_000);
      s.give();
      expect(await third).toBe(true);
      await vi.advanceTimersByTimeAsync(5_001);
      expect(await fourth).toBe(false);
      // The one that gave up does not take the next free slot.
      s.give();
      s.give();
      expect(await s.take(0)).toBe(true);
      expect(await s.take(0)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses at once when the queue is full', async () => {
    const s = slots(1, 2);
    expect(await s.take(10_000)).toBe(true);
    const waiting = [s.take(10_000), s.take(10_000)];
    expect(await s.take(10_000)).toBe(false);
    s.give();
    s.give();
    expect(await Promise.all(waiting)).toEqual([true, true]);
  });
});
