/**
 * npm run faults -- [--employers 20000] [--only a,b] [--short] [--json] [--keep-logs dir]
 *
 * The fault matrix (docs/faults.md): a clean night of a synthetic province
 * through the queues, then one night per fault (worker killed, Redis or
 * PostgreSQL restarted, SMTP down, the feed misbehaving, the night started
 * twice, several workers), each compared row for row with the clean night.
 * Prints a table and, last, one line of JSON:
 * {"faults", "identical", "lost", "doubled", "seconds"}. Exits 1 when any
 * fault's night is not identical to the clean one, 2 on a usage error.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { wholeNumber } from '../args.js';
import { formatMatrix, runMatrix, selectFaults, summaryLine, type MatrixResult } from './matrix.js';

async function main(): Promise<number> {
  let values: { employers?: string | undefined; only?: string | undefined; short?: boolean | undefined; json?: boolean | undefined; 'keep-logs'?: string | undefined; seed?: string | undefined };
  let employers: number;
  let only: string[] | undefined;
  try {
    ({ values } = parseArgs({
      options: {
        employers: { type: 'string' },
        only: { type: 'string' },
        short: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'keep-logs': { type: 'string' },
        seed: { type: 'string' },
      },
    }));
    employers = wholeNumber('employers', values.employers ?? (values.short === true ? '2000' : '20000'), 500, 2_000_000);
    only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    selectFaults({ ...(only !== undefined ? { only } : {}), short: values.short === true });
    if (values.seed !== undefined) wholeNumber('seed', values.seed, 0, 2 ** 31);
  } catch (err) {
    process.stderr.write(`faults: ${(err as Error).message}\n`);
    return 2;
  }
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const result: MatrixResult = await runMatrix({
    employers,
    short: values.short === true,
    ...(only !== undefined ? { only } : {}),
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    keepLogs: resolve(values['keep-logs'] ?? 'tmp/faults'),
    say,
  });
  if (values.json === true) {
    console.log(
      JSON.stringify(
        {
          employers: result.employers,
          clean: { seconds: result.clean.nightSeconds, emails: result.clean.mail?.distinct ?? 0 },
          results: result.results.map((r) => ({
            fault: r.name,
            recovered: r.recovered,
            seconds: r.seconds,
            lost: r.lost,
            doubled: r.doubled,
            differing: r.differing,
            identical: r.identical,
            notes: r.notes,
            evidence: r.identical ? [] : r.evidence,
          })),
        },
        null,
        2,
      ),
    );
  } else {
    console.log(formatMatrix(result));
  }
  console.log(summaryLine(result));
  return result.identical === result.faults ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
