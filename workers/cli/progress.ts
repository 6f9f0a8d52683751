import { SingleBar } from 'cli-progress';

/**
 * Progress on stderr for a person at a terminal: a bar with rate and ETA
 * where the total is known (months generated, batches ingested, example
 * months, epochs), one line naming the stage under way where it is not (the
 * night's stages). Nothing at all when stderr is not a terminal, when CI is
 * set, or under --json, so logs and pipes stay clean.
 *
 * (CI is read here rather than through config/: it says who is watching the
 * terminal, not how the service runs.)
 */
export function progressWanted(json?: boolean): boolean {
  const ci = process.env['CI'];
  const inCi = ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
  return process.stderr.isTTY === true && !inCi && json !== true;
}

export interface ProgressBar {
  /** `done` of `total` (the total may change between calls); `detail` is shown after the ETA. */
  update(done: number, total: number, detail?: string): void;
  /** Leaves the bar as it last was on its own line. Safe to call twice, or never started. */
  stop(): void;
}

export interface StageLine {
  stage(name: string): void;
  /** Clears the line. */
  stop(): void;
}

const NO_BAR: ProgressBar = { update: () => undefined, stop: () => undefined };
const NO_LINE: StageLine = { stage: () => undefined, stop: () => undefined };

/** Bars still drawn when the process ends (an error mid-way) are closed, so the shell prompt starts on a new line. */
const open = new Set<SingleBar>();
let exitHook = false;
function track(bar: SingleBar): void {
  open.add(bar);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const b of open) b.stop();
  });
}

function rate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(n >= 10 ? 1 : 2);
}

/** A bar labelled `label` counting `unit`s, drawn from its first update(). */
export function progressBar(label: string, unit: string, o: { json?: boolean } = {}): ProgressBar {
  if (!progressWanted(o.json)) return NO_BAR;
  let bar: SingleBar | undefined;
  let started = 0;
  return {
    update(done, total, detail = '') {
      if (bar === undefined) {
        started = Date.now();
        bar = new SingleBar({
          stream: process.stderr,
          format: `${label} [{bar}] {value}/{total} ${unit} · {rate} ${unit}/s · ETA {eta_formatted} {detail}`,
          barsize: 24,
          etaBuffer: 20,
          fps: 5,
          linewrap: false,
          clearOnComplete: false,
          stopOnComplete: false,
          hideCursor: false,
          gracefulExit: false,
        });
        bar.start(total, 0, { rate: '–', detail });
        track(bar);
      }
      if (bar.getTotal() !== total) bar.setTotal(total);
      const seconds = (Date.now() - started) / 1000;
      bar.update(done, { rate: seconds > 0 && done > 0 ? rate(done / seconds) : '–', detail });
    },
    stop() {
      if (bar === undefined) return;
      bar.stop();
      open.delete(bar);
      bar = undefined;
    },
  };
}

/** One line, `label: <stage>… (elapsed)`, for work made of named stages with no count. */
export function stageLine(label: string, o: { json?: boolean } = {}): StageLine {
  if (!progressWanted(o.json)) return NO_LINE;
  let line: SingleBar | undefined;
  return {
    stage(name) {
      if (line === undefined) {
        line = new SingleBar({
          stream: process.stderr,
          format: `${label}: {stage}… ({duration_formatted})`,
          fps: 2,
          linewrap: false,
          clearOnComplete: true,
          hideCursor: false,
          gracefulExit: false,
        });
        line.start(1, 0, { stage: name });
        track(line);
      } else line.update({ stage: name });
    },
    stop() {
      if (line === undefined) return;
      line.stop();
      open.delete(line);
      line = undefined;
    },
  };
}

/**
 * Bars for a training (workers/train.stage.ts's TrainProgress): example
 * months, then epochs. Undefined when no progress is wanted, so the stage
 * does no work for it.
 */
export function trainProgress(json?: boolean): ((step: { phase: 'examples' | 'epochs'; done: number; total: number; detail: string }) => void) | undefined {
  if (!progressWanted(json)) return undefined;
  const bars = { examples: progressBar('examples', 'months', { json }), epochs: progressBar('training', 'epochs', { json }) };
  return (step) => {
    if (step.phase === 'epochs') bars.examples.stop();
    const bar = bars[step.phase];
    bar.update(step.done, step.total, step.detail);
    if (step.done >= step.total) bar.stop();
  };
}
