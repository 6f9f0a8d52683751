import type { ConnectionOptions } from 'bullmq';

/** BullMQ connection options from REDIS_URL. Workers need maxRetriesPerRequest: null. */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** What Redis says about keeping BullMQ's keys: its eviction policy and whether anything is written to disk. */
export interface RedisDurability {
  /** maxmemory-policy; undefined when the server would not say. */
  policy: string | undefined;
  aof: boolean | undefined;
  /** RDB snapshots configured (`save` not empty). */
  rdb: boolean | undefined;
}

export interface DurabilityVerdict {
  /** Refuse to start: production with a policy that evicts keys. */
  refuse: string | null;
  warnings: string[];
}

/**
 * Pure: what a deployment must be told about its Redis. A policy other
 * than noeviction lets Redis drop queue keys under memory pressure (jobs
 * vanish mid-flow): refused in production, a warning elsewhere. No AOF and
 * no RDB: a restart forgets every queued job and schedule; the scheduler's
 * watch re-drives nights from the database after NIGHT_STALL_MS, but that
 * is recovery, not durability: a warning.
 */
export function judgeRedis(d: RedisDurability, env: string): DurabilityVerdict {
  const warnings: string[] = [];
  let refuse: string | null = null;
  if (d.policy !== undefined && d.policy !== 'noeviction') {
    const what = `Redis maxmemory-policy is ${d.policy}: under memory pressure it evicts BullMQ's keys and jobs vanish mid-night; set maxmemory-policy noeviction`;
    if (env === 'production') refuse = what;
    else warnings.push(what);
  }
  if (d.policy === undefined) warnings.push('could not read Redis maxmemory-policy (CONFIG and INFO refused): make sure it is noeviction');
  if (d.aof === false && d.rdb === false) {
    warnings.push(
      'Redis persists nothing (appendonly no, no save points): a Redis restart forgets every queued job and schedule; the scheduler re-drives a night from the database after NIGHT_STALL_MS, but set appendonly yes',
    );
  }
  return { refuse, warnings };
}

/** Asks the server (CONFIG GET where allowed, INFO otherwise). */
export async function readRedisDurability(url: string): Promise<RedisDurability> {
  const { Redis } = await import('ioredis');
  const options = redisConnection(url) as Record<string, unknown>;
  const client = new Redis({ ...options, maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info().catch(() => '');
    const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const config = async (name: string): Promise<string | undefined> => {
      try {
        const reply = (await client.config('GET', name)) as string[];
        return reply[1];
      } catch {
        return undefined;
      }
    };
    const policy = (await config('maxmemory-policy')) ?? field('maxmemory_policy');
    const aofValue = (await config('appendonly')) ?? field('aof_enabled');
    const save = await config('save');
    return {
      policy,
      aof: aofValue === undefined ? undefined : aofValue === 'yes' || aofValue === '1',
      rdb: save === undefined ? undefined : save.trim().length > 0,
    };
  } finally {
    client.disconnect();
  }
}
