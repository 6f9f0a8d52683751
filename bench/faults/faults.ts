import { SETTINGS, NIGHT_DATE, type Setting } from './setting.js';
import { sleep, waitFor } from './processes.js';
import type { FaultSpec, NightContext } from './night.js';

/**
 * The faults of the matrix, each injected into one night at a point found
 * from real state (NightContext.until: the first batch of the night loaded
 * while another is loading; the first shard's rows written; the first
 * e-mail received by the relay; a message being accepted by a slow relay).
 */

/** The first social-insurance file the night ingests: the largest, where a feed fault hurts. */
function firstSiFile(setting: Setting): string {
  const e = setting.nightEntries.find((x) => x.feed === 'social_insurance');
  if (e === undefined) throw new Error('the night has no social-insurance batch');
  return e.file;
}

const killAt = (stage: 'ingest' | 'score' | 'send' | 'accepting') => async (n: NightContext): Promise<void> => {
  n.note(`killed at: ${await n.until(stage)}`);
  await n.killWorkers();
  n.injected();
  n.startWorker();
};

const restartPgAt = (stage: 'ingest' | 'score' | 'send') => async (n: NightContext): Promise<void> => {
  n.note(`restarted at: ${await n.until(stage)}`);
  const t = Date.now();
  await n.setting.pg.restart();
  n.injected();
  n.note(`PostgreSQL down ${((Date.now() - t) / 1000).toFixed(1)} s`);
};

const restartRedisAt = (stage: 'ingest' | 'score') => async (n: NightContext): Promise<void> => {
  n.note(`restarted at: ${await n.until(stage)}`);
  await n.redis.restart();
  n.injected();
};

export const FAULTS: readonly FaultSpec[] = [
  { name: 'kill-ingest', what: 'the worker SIGKILLed while the night ingests (one batch loaded, another loading); a new worker started', inject: killAt('ingest') },
  { name: 'kill-score', what: 'the worker SIGKILLed once the first shard has written its rows; a new worker started', inject: killAt('score') },
  { name: 'kill-send', what: 'the worker SIGKILLed once the relay has received the first e-mail; a new worker started', inject: killAt('send') },
  {
    name: 'kill-send-slow',
    what: 'the relay takes 2 s to accept each message; the worker SIGKILLed while one is being accepted; a new worker started',
    smtp: { acceptDelayMs: 2_000 },
    inject: killAt('accepting'),
    extraMs: 120_000,
  },
  { name: 'redis-aof', what: 'redis-server (AOF, appendfsync everysec) stopped with SIGTERM and started again once the first shard has written', inject: restartRedisAt('score') },
  { name: 'redis-nopersist', what: 'redis-server without persistence (--save "" --appendonly no) restarted once the first shard has written: every key is gone', redis: 'none', inject: restartRedisAt('score') },
  { name: 'pg-ingest', what: 'PostgreSQL fast shutdown and start while the night ingests (one batch loaded, another loading)', inject: restartPgAt('ingest') },
  { name: 'pg-score', what: 'PostgreSQL fast shutdown and start once the first shard has written its rows', inject: restartPgAt('score') },
  { name: 'pg-send', what: 'PostgreSQL fast shutdown and start once the relay has received the first e-mail', inject: restartPgAt('send') },
  {
    name: 'smtp-down',
    what: 'the relay refuses connections from the start of the night until notify jobs have used all their attempts ("an hour"), then comes back',
    extraMs: 120_000,
    inject: async (n) => {
      await n.setting.sink.stop();
      const t = Date.now();
      const gaveUp = await waitFor(async () => (await n.notifyFailed()) > 0, 300_000, 100);
      if (!gaveUp) n.note('no notify job ever used all its attempts: relay brought back after 5 minutes');
      const { total, unsent } = await n.notifications();
      n.note(`relay down ${((Date.now() - t) / 1000).toFixed(0)} s, until a notify job had used all ${SETTINGS.stages.notify.attempts} attempts (${unsent}/${total} e-mails unsent then)`);
      await sleep(1_000);
      await n.setting.sink.start();
      n.injected();
      if (n.setting.sweepSetting === undefined) {
        // No setting: the scheduler's notify-sweep fires every 10 minutes (workers/serve.ts). Fire it as that timer would.
        n.note('no sweep interval setting (workers/serve.ts: every 10 min, hard-coded): the harness added one notify-sweep job');
        await n.sweep();
      } else {
        n.note(`sweep every ${n.setting.sweepSetting.value} (${n.setting.sweepSetting.env})`);
      }
    },
  },
  {
    name: 'feed-503',
    what: `the feed answers 503 to the manifest twice and to the first social-insurance file ${SETTINGS.feedRetries + 2} times (more than one ingest attempt's HTTP retries), then serves`,
    feed: (s) => {
      s.http.fail('manifest.json', { status: 503 }, { status: 503 });
      s.http.fail(firstSiFile(s), ...Array.from({ length: SETTINGS.feedRetries + 2 }, () => ({ status: 503 })));
    },
  },
  { name: 'feed-hang', what: 'the first social-insurance file: the server never answers the first request (timeout), then serves', feed: (s) => s.http.fail(firstSiFile(s), 'hang') },
  { name: 'feed-stall', what: 'the first social-insurance file: headers and half the body, then silence with the connection open, then serves', feed: (s) => s.http.fail(firstSiFile(s), 'stall') },
  {
    name: 'feed-truncate',
    what: 'the first social-insurance file: half the body and a clean end (chunked, no error at the HTTP level), then serves correctly',
    feed: (s) => s.http.fail(firstSiFile(s), 'truncate'),
  },
  {
    name: 'twice',
    what: `the same night started twice at once (nightly.${NIGHT_DATE} and a second nightly job) under two schedulers, and a third time once scoring has begun`,
    schedulers: 2,
    inject: async (n) => {
      await n.addNight(`nightly.${NIGHT_DATE}.again`, 'manual');
      n.injected();
      await n.until('score');
      await n.addNight(`nightly.${NIGHT_DATE}.third`, 'manual');
    },
  },
  { name: 'workers-2', what: 'two worker processes share the night', workers: 2 },
  { name: 'workers-3', what: 'three worker processes share the night', workers: 3 },
];

/** The CI version: a few faults on a small province. */
export const SHORT = ['kill-score', 'redis-aof', 'redis-nopersist', 'pg-send', 'twice'] as const;
