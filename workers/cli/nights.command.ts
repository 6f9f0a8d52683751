import { NightRepository } from '../../services/nightly/night.repository.js';
import { NightFlows } from '../night.flow.js';
import { watchNights, type WatchPass } from '../night.watch.js';
import { redisConnection } from '../redis.js';
import { openQueues } from '../worker.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printLine, printTable } from './output.js';

/**
 * `ews nights`: the nights the queue's flow ran, newest first, with their
 * stage, run, the batches they could not load and what the scheduler's
 * watch found. `ews nights --watch` runs one pass of the watch now (the
 * scheduler runs it on its own every quarter of NIGHT_STALL_MS).
 */
export async function nightsCommand(ctx: CliContext, opts: { limit: string; watch?: boolean; json?: boolean }): Promise<WatchPass | null> {
  const limit = intOption('limit', opts.limit, 1, 1000);
  const database = await ctx.db();
  let pass: WatchPass | null = null;
  if (opts.watch === true) {
    const connection = redisConnection(ctx.config.redis.url);
    const queues = openQueues(connection, ctx.config.redis.queuePrefix);
    const flows = new NightFlows(ctx.config, connection, ctx.config.redis.queuePrefix, ctx.log);
    try {
      pass = await watchNights({ config: ctx.config, database, log: ctx.log, queues, flows });
    } finally {
      await flows.close();
      await queues.close();
    }
  }
  const nights = await new NightRepository(database).list(limit);
  if (opts.json) {
    printJson({ ...(pass !== null ? { watch: pass } : {}), nights });
    return pass;
  }
  if (pass !== null) {
    printLine(`watch: ${pass.idle} night(s) idle longer than ${ctx.config.nightly.stallMs / 1000} s; ${pass.redriven.length} re-driven, ${pass.reported.length} reported, ${pass.finished} finished${pass.schedulesRestored.length > 0 ? `; schedules put back: ${pass.schedulesRestored.join(', ')}` : ''}`);
    for (const r of pass.redriven) printLine(`  re-driven ${r.key}: ${r.what}`);
    for (const r of pass.reported) printLine(`  ${r.key}: ${r.what}`);
  }
  printTable(
    nights.map((n) => ({
      night: n.key,
      reason: n.reason,
      stage: n.stage,
      run: n.runId,
      started: n.startedAt,
      'last progress': n.progressAt,
      finished: n.finishedAt,
      'missing batches': n.missingBatches.map((m) => `${m.source}/${m.file}`).join(', '),
      redrives: n.redrives,
    })),
    ['night', 'reason', 'stage', 'run', 'started', 'last progress', 'finished', 'missing batches', 'redrives'],
  );
  return pass;
}
