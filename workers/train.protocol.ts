import type { Thresholds } from '../config/thresholds.schema.js';
import type { ThreadKind } from '../services/threads/protocol.js';
import type { TrainStageOptions, TrainStageResult } from './train.stage.js';

/** What the train job's thread is given and says back (train.thread.ts, train.processors.ts), over services/threads. */

export interface TrainThreadData {
  databaseUrl: string;
  thresholds: Thresholds;
  dataDir: string;
  configuredModelDir: string | undefined;
  logLevel: string;
  shippedDir?: string;
}

/** One pino line (JSON), to be written under the job's logger. */
export interface TrainLogLine {
  line: string;
}

/** The training thread: one task, the stage's options; its asks are its log lines, which the owner writes. */
export interface TrainingThread extends ThreadKind {
  data: TrainThreadData;
  info: null;
  request: TrainStageOptions;
  result: TrainStageResult;
  ask: TrainLogLine;
  answer: null;
}
