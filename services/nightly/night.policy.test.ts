import { describe, expect, it } from 'vitest';
import { nightAction, watchIntervalMs, type NightFacts, type NightJobs } from './night.policy.js';

const jobs = (over: Partial<NightJobs> = {}): NightJobs => ({ root: null, alerts: null, cities: null, shards: [], ...over });
const ingest: NightFacts = { stage: 'ingest', runId: null, runStatus: null, alertsDone: false };
const scoring: NightFacts = { stage: 'score', runId: 7, runStatus: 'running', alertsDone: false };
const scored: NightFacts = { stage: 'alerts', runId: 7, runStatus: 'done', alertsDone: false };

describe('nightAction', () => {
  it('adds the ingest flow again when its root job is gone, retries it when it failed, and only reports when it waits', () => {
    expect(nightAction(ingest, jobs()).kind).toBe('restart-night');
    expect(nightAction(ingest, jobs({ root: 'unknown' })).kind).toBe('restart-night');
    expect(nightAction(ingest, jobs({ root: 'failed' }))).toMatchObject({ kind: 'retry', jobs: ['root'] });
    expect(nightAction(ingest, jobs({ root: 'waiting-children' }))).toMatchObject({ kind: 'report' });
  });

  it('adds the scoring flow again when its root (the alerts job) is gone', () => {
    expect(nightAction(scoring, jobs({ root: 'completed', shards: [null, null] })).kind).toBe('restart-scoring');
  });

  it('retries exactly the shards and steps that ran out of attempts', () => {
    const action = nightAction(scoring, jobs({ alerts: 'waiting-children', cities: 'waiting-children', shards: ['completed', 'failed', 'waiting', 'failed'] }));
    expect(action).toEqual({ kind: 'retry', jobs: [1, 3], what: '2 shard(s) of run 7 ran out of attempts: retried' });
    expect(nightAction(scoring, jobs({ alerts: 'waiting-children', cities: 'failed', shards: ['completed'] }))).toMatchObject({ kind: 'retry', jobs: ['cities'] });
  });

  it('reports a run whose jobs are all there and waiting, without touching it', () => {
    const action = nightAction(scoring, jobs({ alerts: 'waiting-children', cities: 'waiting-children', shards: ['completed', 'waiting', 'active'] }));
    expect(action.kind).toBe('report');
    expect(action).toMatchObject({ what: expect.stringContaining('2 shard(s) waiting') as unknown });
  });

  it('after scoring: the alerts job alone is added again when lost, retried when failed', () => {
    expect(nightAction(scored, jobs()).kind).toBe('restart-alerts');
    expect(nightAction(scored, jobs({ alerts: 'failed' }))).toMatchObject({ kind: 'retry', jobs: ['alerts'] });
    expect(nightAction(scored, jobs({ alerts: 'active' })).kind).toBe('report');
  });

  it('finishes a night whose alerts are raised, whatever the queues hold', () => {
    expect(nightAction({ ...scored, alertsDone: true }, jobs())).toEqual({ kind: 'finish' });
  });

  it('does not re-drive a failed run (the inline path failed it): it reports', () => {
    expect(nightAction({ ...scoring, runStatus: 'failed' }, jobs()).kind).toBe('report');
  });
});

describe('watchIntervalMs', () => {
  it('is a quarter of the stall time, between 1 s and a minute', () => {
    expect(watchIntervalMs(600_000)).toBe(60_000);
    expect(watchIntervalMs(20_000)).toBe(5_000);
    expect(watchIntervalMs(2_000)).toBe(1_000);
  });
});
