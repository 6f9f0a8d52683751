import { z } from 'zod';
import { CRON } from './ops.schema.js';

/**
 * Retraining as an operation (`ews train`, and the monthly `train` job):
 * when it fires, how the candidate is trained, and how many of the latest
 * labelled months are held out to judge it against the current model. The
 * versions live under dataDir/models (the model registry).
 */

export const trainingSchema = z
  .object({
    /** When the monthly retraining fires, in nightly.timezone (default the 5th at 04:00, after that night's run). */
    cron: z.string().regex(CRON, 'must be a five-field cron expression, e.g. "0 4 5 * *"').default('0 4 5 * *'),
    /** The latest labelled months the candidate does not train on; both it and the current model are scored on them. */
    holdoutMonths: z.number().int().min(1).max(12).default(3),
    epochs: z.number().int().min(1).max(500).default(12),
    kind: z.enum(['tcn', 'gru', 'mlp', 'logistic']).default('tcn'),
    /** Share of negative examples kept for training (all positives are); the calibration is shifted back to the true base rate. */
    negatives: z.number().gt(0).max(1).default(0.25),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** Attempts of the train job after a transient fault (database restart); bad data fails at once. */
    attempts: z.number().int().min(1).max(10).default(2),
  })
  .strict()
  .prefault({});

export type TrainingConfig = z.infer<typeof trainingSchema>;
