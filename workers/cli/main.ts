import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../../config/config.load.js';
import { MigrationError } from '../../services/db/migrate.js';
import { ManifestError } from '../../services/feeds/manifest.js';
import { SourceError } from '../../services/feeds/source.js';
import { maskPii } from '../../services/domain/pii.js';
import { CliContext } from './context.js';
import { demoCommand } from './demo.command.js';
import { batchesCommand, ingestCommand, migrateCommand, quarantineCommand } from './feeds.commands.js';
import { generateCommand } from './generate.command.js';
import { UsageError } from './output.js';
import { riskListCommand, scoreCommand } from './scoring.commands.js';
import { alertsListCommand, alertsRaiseCommand, alertsShowCommand, alertsTransitionCommand, notifyListCommand, notifySendCommand } from './alerts.commands.js';
import { evaluateCommand, type EvaluateCliOptions } from './evaluate.command.js';
import { nightlyCommand, queuesCommand, retryCommand, serveCommand } from './ops.commands.js';
import { nightsCommand } from './nights.command.js';
import { tokensCreateCommand, tokensListCommand, tokensRevokeCommand, usersAddCommand, usersDisableCommand, usersListCommand, usersResetCommand } from './users.commands.js';
import { modelsListCommand, modelsPromoteCommand, modelsRollbackCommand } from './models.commands.js';
import { trainCommand, type TrainCommandOptions } from './train.command.js';
import { shortfallLines, type Shortfall } from './shortfall.js';
import { EXIT } from '../usage.error.js';

/**
 * `ews <command>`: a thin entry over services/ and workers/. Exit codes
 * (EXIT, README → Exit codes): 0 done; 1 an error stopped the command (one
 * line on stderr); 2 a usage or configuration error; 3 the command ran to
 * its end but part of its work failed: each part (a source, a batch, the
 * e-mails) on its own stderr line with the reason. Listing commands take
 * --json for scripts.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let context: CliContext | undefined;
  const ctx = (): CliContext => (context ??= new CliContext());
  let exitCode: number = EXIT.ok;
  /** A command whose work partly failed: each part on stderr, and exit code 3. */
  const partly = (command: string, shortfalls: readonly Shortfall[]): void => {
    for (const line of shortfallLines(command, shortfalls)) process.stderr.write(`${maskPii(line)}\n`);
    if (shortfalls.length > 0) exitCode = EXIT.partial;
  };

  const program = new Command()
    .name('ews')
    .description('layoff-ews: early warning of large-scale layoffs and unemployment risk (Sichuan)')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(maskPii(s)) });

  program
    .command('migrate')
    .description('apply the numbered migrations in sql/ to the database')
    .action(async () => migrateCommand(ctx()));

  program
    .command('ingest')
    .description('load the new batches of the feed sources (all configured ones, or --source)')
    .option('--source <name|url>', 'a configured source name, or a file:// or http(s):// URL')
    .option('--retry-rejected', 'read batches again that were rejected before')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { source?: string; retryRejected?: boolean; json?: boolean }) => partly('ingest', await ingestCommand(ctx(), opts)));

  program
    .command('batches')
    .description('list batches with their status and row counts, newest first')
    .addOption(new Option('--feed <feed>', 'only this feed').choices(['social_insurance', 'headcount', 'regional', 'layoff_filings']))
    .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'loading', 'loaded', 'rejected']))
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { feed?: string; status?: string; limit: string; json?: boolean }) => batchesCommand(ctx(), opts));

  program
    .command('quarantine')
    .description("show a batch's rejected rows and the reasons")
    .requiredOption('--batch <id>', 'the batch id (see `ews batches`)')
    .option('--limit <n>', 'at most this many rows', '200')
    .option('--json', 'print JSON')
    .action(async (opts: { batch: string; limit: string; json?: boolean }) => quarantineCommand(ctx(), opts));

  program
    .command('generate')
    .description('write a synthetic province: a feed source and, apart, its ground truth')
    .requiredOption('--out <dir>', 'output directory (feeds/ and truth/ are written inside)')
    .option('--employers <n>', 'number of employers', '20000')
    .option('--months <n>', 'number of months', '36')
    .option('--seed <n>', 'random seed', '1')
    .option('--last-period <YYYY-MM>', 'the last month generated', '2026-10')
    .option('--no-defects', 'leave out the deliberate data defects')
    .option('--separability <s>', 'how far layoff run-ups differ from distress that recovers, 0 (not at all) to 5; 1 for evaluation', '0')
    .option('--micro-closure-rate <r>', 'share of micro employers (< 10 staff) closing per year, 0 to 0.5', '0.03')
    .option('--churn-dispersion <k>', 'over-dispersion of monthly quits (variance = mean + k·mean²), 0 (Poisson) to 5', '0')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: Parameters<typeof generateCommand>[1]) => generateCommand(ctx(), opts));

  program
    .command('score')
    .description('score one period inline: every employer (rules, model, level) and every city')
    .requiredOption('--period <YYYY-MM>', 'the month to score')
    .option('--city <code>', 'only this city (e.g. 510100)')
    .option('--shards <n>', 'bucket-range shards (default SCORE_SHARDS)')
    .option('--no-alerts', 'score only: raise no alerts and send no e-mails (backfills)')
    .option('--from-facts', 'read every month from the fact tables, not the pack the previous period left (after facts were changed outside the ingest)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { period: string; city?: string; shards?: string; alerts?: boolean; json?: boolean; fromFacts?: boolean }) => partly('score', await scoreCommand(ctx(), opts)));

  program
    .command('risk')
    .description('scoring results')
    .command('list')
    .description('employers and cities with level, probability, rules hit and explanation')
    .requiredOption('--period <YYYY-MM>', 'the month scored')
    .option('--city <code>', 'only this city')
    .option('--level <n>', 'this level and above (1 = Ⅰ … 4 = Ⅳ)')
    .option('--limit <n>', 'at most this many employers', '50')
    .option('--json', 'print JSON (with the full explanation)')
    .action(async (opts: { period: string; city?: string; level?: string; limit: string; json?: boolean }) => riskListCommand(ctx(), opts));

  program
    .command('train')
    .description(
      'train a candidate on the database\'s history, judge it on the latest labelled months against the current model, and add it to the model registry (EWS_DATA_DIR/models), current only if better',
    )
    .option('--from <YYYY-MM>', 'first labelled month (default: the earliest the history allows)')
    .option('--to <YYYY-MM>', 'last labelled month (default: 3 months before the latest data); the last --holdout-months of the window are held out')
    .option('--holdout-months <n>', 'latest labelled months held out to judge the candidate (default TRAIN_HOLDOUT_MONTHS, 3)')
    .option('--no-promote', 'register the candidate with its figures but leave the current model in place')
    .option('--epochs <n>', 'training epochs (default TRAIN_EPOCHS, 12)')
    .option('--seed <n>', 'random seed (default 1)')
    .option('--negatives <share>', 'share of negative examples kept (default 0.25)')
    .option('--kind <kind>', 'tcn, gru, mlp or logistic (default TRAIN_KIND, tcn)')
    .option('--out <dir>', 'instead: write a plain artifact to this folder (not registered, not judged)')
    .option('--overwrite-shipped', 'with --out models/default: replace the shipped model on purpose')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: TrainCommandOptions) => trainCommand(ctx(), opts));

  const models = program.command('models').description('the model registry (EWS_DATA_DIR/models): versions, the current one, promotion and rollback');
  models
    .command('list')
    .description('versions with their figures on the held-out months, which one is current, and why a candidate was not promoted')
    .option('--json', 'print JSON (with the promotion history)')
    .action((opts: { json?: boolean }) => modelsListCommand(ctx(), opts));
  models
    .command('promote <version>')
    .description('make a version current (`default`: the shipped model); refuses one trained on other features than this code builds')
    .option('--by <name>', 'who promotes (recorded in the history; default the login name)')
    .option('--json', 'print JSON')
    .action(async (version: string, opts: { by?: string; json?: boolean }) => modelsPromoteCommand(ctx(), version, opts));
  models
    .command('rollback')
    .description('back to the version current before this one, or to the shipped model when there is none')
    .option('--by <name>', 'who rolls back (recorded in the history; default the login name)')
    .option('--json', 'print JSON')
    .action(async (opts: { by?: string; json?: boolean }) => modelsRollbackCommand(ctx(), opts));

  const alerts = program.command('alerts').description('alerts: one per employer and kind, and per city; open → acknowledged → resolved');
  alerts
    .command('list')
    .description('alerts, most severe first')
    .option('--city <code>', 'only this city (e.g. 510100)')
    .option('--level <n>', 'this level and above (1 = Ⅰ … 4 = Ⅳ)')
    .option('--status <s>', 'pending, open, acknowledged, resolved, or active (open and acknowledged)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { city?: string; level?: string; status?: string; limit: string; json?: boolean }) => alertsListCommand(ctx(), opts));
  alerts
    .command('show <id>')
    .description('one alert: evidence, append-only history, notifications')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => alertsShowCommand(ctx(), id, opts));
  alerts
    .command('ack <id>')
    .description('acknowledge an open alert')
    .option('--by <name>', 'who acknowledges (recorded in the history)')
    .option('--comment <text>', 'what was done')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { by?: string; comment?: string; json?: boolean }) => alertsTransitionCommand(ctx(), 'ack', id, opts));
  alerts
    .command('resolve <id>')
    .description('resolve an alert with a disposition')
    .option('--by <name>', 'who resolves (recorded in the history)')
    .option('--disposition <d>', '核实为规模裁员 / 误报 / 已采取稳岗措施 / 企业已报告 / 其他 (其他 needs --comment)')
    .option('--comment <text>', 'what was found or done')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { by?: string; disposition?: string; comment?: string; json?: boolean }) => alertsTransitionCommand(ctx(), 'resolve', id, opts));
  alerts
    .command('raise')
    .description('raise, update and resolve alerts from a finished scoring run and queue their e-mails (a run is processed once)')
    .option('--run <id>', 'the scoring run')
    .option('--period <YYYY-MM>', 'the latest finished run of this month')
    .option('--no-send', 'only queue the e-mails (a notify worker sends them)')
    .option('--json', 'print JSON')
    .action(async (opts: { run?: string; period?: string; send?: boolean; json?: boolean }) => partly('alerts raise', await alertsRaiseCommand(ctx(), opts)));

  const notify = program.command('notify').description('the e-mail outbox');
  notify
    .command('send')
    .description('send every e-mail waiting in the outbox now (SMTP_URL, or .eml files under OUTBOX_DIR)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => partly('notify send', await notifySendCommand(ctx(), opts)));
  notify
    .command('list')
    .description('e-mails and their delivery state (failed ones need ops)')
    .option('--status <s>', 'pending, sending, sent or failed')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: string; limit: string; json?: boolean }) => notifyListCommand(ctx(), opts));

  program
    .command('serve')
    .description('run the service: api (health, metrics, queue dashboard), worker (every stage of the night), scheduler (the nightly run and catch-ups)')
    .option('--role <role>', 'api, worker, scheduler, all, or a comma-separated list', 'all')
    .action(async (opts: { role: string }) => serveCommand(ctx(), opts));

  program
    .command('nightly')
    .description('the night inline: poll and ingest every source, score the latest month (or --period), raise alerts, send e-mails')
    .option('--period <YYYY-MM>', 'score this month instead of the latest loaded one')
    .option('--from <YYYY-MM>', 'backfill: first month')
    .option('--to <YYYY-MM>', 'backfill: last month')
    .option('--json', 'print JSON')
    .action(async (opts: { period?: string; from?: string; to?: string; json?: boolean }) => partly('nightly', await nightlyCommand(ctx(), opts)));

  program
    .command('queues')
    .description('job counts per queue and the failed jobs')
    .option('--failed <n>', 'failed jobs listed per queue', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { failed: string; json?: boolean }) => queuesCommand(ctx(), opts));

  program
    .command('nights')
    .description("the nights the queue's flow ran: stage, run, batches not loaded, re-drives; --watch runs the scheduler's night watch once now")
    .option('--limit <n>', 'nights listed, newest first', '20')
    .option('--watch', 're-drive every night idle longer than NIGHT_STALL_MS now (the scheduler does it on its own)')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; watch?: boolean; json?: boolean }) => {
      await nightsCommand(ctx(), opts);
    });

  const users = program.command('users').description("the console's accounts: province, city (one city), ops, viewer");
  users
    .command('add')
    .description('add an account; without --password-stdin a password is generated and printed once')
    .option('--role <role>', 'province (all cities, read and act) / city (one city) / ops (queues, runs, feeds) / viewer (read-only)')
    .option('--city <code>', 'the city code of a city account (e.g. 510100)')
    .option('--email <e>', 'the login')
    .option('--password-stdin', 'read the password from stdin (12+ characters, 6+ different)')
    .option('--json', 'print JSON')
    .action(async (opts: { role?: string; city?: string; email?: string; passwordStdin?: boolean; json?: boolean }) => usersAddCommand(ctx(), opts));
  users
    .command('list')
    .description('accounts with their role, city and state (active, locked, disabled)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => usersListCommand(ctx(), opts));
  users
    .command('disable')
    .description('refuse an account from now on: its sessions end, its tokens are refused')
    .option('--email <e>', 'the account')
    .action(async (opts: { email?: string }) => usersDisableCommand(ctx(), opts, true));
  users
    .command('enable')
    .description('let a disabled account log in again')
    .option('--email <e>', 'the account')
    .action(async (opts: { email?: string }) => usersDisableCommand(ctx(), opts, false));
  users
    .command('reset')
    .description('set a new password (generated and printed once without --password-stdin), lift a lock-out, end the sessions')
    .option('--email <e>', 'the account')
    .option('--password-stdin', 'read the new password from stdin')
    .action(async (opts: { email?: string; passwordStdin?: boolean }) => usersResetCommand(ctx(), opts));

  const tokens = program.command('tokens').description('API tokens for machines: Authorization: Bearer <token>');
  tokens
    .command('create')
    .description("a new token acting as the account (its role and city); printed once, on the last line")
    .option('--email <e>', 'the account')
    .option('--label <text>', 'what the token is for')
    .action(async (opts: { email?: string; label?: string }) => tokensCreateCommand(ctx(), opts));
  tokens
    .command('list')
    .description('tokens (never the secrets), when they were last used, which are revoked')
    .option('--email <e>', "only this account's")
    .option('--json', 'print JSON')
    .action(async (opts: { email?: string; json?: boolean }) => tokensListCommand(ctx(), opts));
  tokens
    .command('revoke <id>')
    .description('refuse a token from now on')
    .action(async (id: string) => tokensRevokeCommand(ctx(), id));

  program
    .command('retry')
    .description("retry a queue's failed jobs")
    .option('--queue <name>', 'the queue (poll, ingest, nightly, score, alerts, notify, train)')
    .option('--json', 'print JSON')
    .action(async (opts: { queue?: string; json?: boolean }) => retryCommand(ctx(), opts));

  program
    .command('evaluate')
    .description('train on one generated province, replay another month by month, and write models/REPORT.md comparing the full system with baselines')
    .option('--employers <n>', 'employers per generated province', '20000')
    .option('--months <n>', 'months per generated province', '36')
    .option('--train-seed <n>', 'seed of the province trained on', '1')
    .option('--test-seed <n>', 'seed of the province scored', '2')
    .option('--epochs <n>', 'training epochs of the sequence model', '12')
    .option('--negatives <share>', 'share of negative examples kept in training', '0.25')
    .option('--separability <list>', 'generator settings to evaluate at, comma-separated (services/synth/README.md); the first is the justified one', '1,0,2')
    .option('--churn-dispersion <k>', 'over-dispersion of ordinary churn in the generated provinces (0: Poisson)', '0.2')
    .option('--out <file>', 'the report (the PR-curve pictures go next to it)', 'models/REPORT.md')
    .option('--json', 'print the results as JSON')
    .action(async (opts: EvaluateCliOptions) => evaluateCommand(ctx(), opts));

  program
    .command('demo')
    .description('the main job on the embedded default: generate a province (once), ingest it, summarise')
    .option('--out <dir>', 'where generated provinces are kept', './data/demo')
    .option('--employers <n>', 'number of employers', '20000')
    .option('--months <n>', 'number of months', '36')
    .option('--seed <n>', 'random seed', '1')
    .action(async (opts: { out: string; employers: string; months: string; seed: string }) => partly('demo', await demoCommand(ctx(), opts)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; usage errors were printed by commander.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`ews: ${maskPii(oneLine(err))}\n`);
    return err instanceof UsageError || err instanceof ConfigError ? EXIT.usage : EXIT.failed;
  } finally {
    await context?.close();
  }
}

function oneLine(err: unknown): string {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof MigrationError || err instanceof ManifestError || err instanceof SourceError) {
    return err.message;
  }
  const e = err as { message?: string; code?: string };
  if (e.code === 'ECONNREFUSED') return `cannot reach a service (${e.message ?? ''}): is PostgreSQL/Redis running, and DATABASE_URL/REDIS_URL right?`;
  return (e.message ?? String(err)).split('\n')[0] ?? 'failed';
}
