import { describe, expect, it } from 'vitest';
import { judgeRedis } from './redis.js';

describe('judgeRedis', () => {
  it('refuses an evicting Redis in production, and only warns elsewhere', () => {
    const lru = { policy: 'allkeys-lru', aof: true, rdb: false };
    expect(judgeRedis(lru, 'production').refuse).toMatch(/maxmemory-policy is allkeys-lru.*set maxmemory-policy noeviction/);
    expect(judgeRedis(lru, 'development')).toEqual({ refuse: null, warnings: [expect.stringContaining('allkeys-lru') as unknown] });
  });

  it('warns when nothing is persisted, and is quiet for AOF or RDB with noeviction', () => {
    expect(judgeRedis({ policy: 'noeviction', aof: false, rdb: false }, 'production')).toEqual({ refuse: null, warnings: [expect.stringContaining('persists nothing') as unknown] });
    expect(judgeRedis({ policy: 'noeviction', aof: true, rdb: false }, 'production')).toEqual({ refuse: null, warnings: [] });
    expect(judgeRedis({ policy: 'noeviction', aof: false, rdb: true }, 'production')).toEqual({ refuse: null, warnings: [] });
  });

  it('says so when the server would not tell its policy (CONFIG and INFO refused), without refusing', () => {
    expect(judgeRedis({ policy: undefined, aof: undefined, rdb: undefined }, 'production')).toEqual({ refuse: null, warnings: [expect.stringContaining('could not read') as unknown] });
  });
});
