import type { Thresholds } from '../config/thresholds.schema.js';
import type { TrainStageOptions, TrainStageResult } from './train.stage.js';

/** What the train job's thread is given and says back (train.thread.ts, train.processors.ts). */

export interface TrainThreadData {
  databaseUrl: string;
  thresholds: Thresholds;
  dataDir: string;
  configuredModelDir: string | undefined;
  logLevel: string;
  options: TrainStageOptions;
  shippedDir?: string;
}

export type TrainThreadMessage =
  /** One pino line (JSON), to be written under the job's logger. */
  | { kind: 'log'; line: string }
  | { kind: 'done'; result: TrainStageResult }
  | { kind: 'failed'; name: string; message: string };
