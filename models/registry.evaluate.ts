import type { FeatureSpec } from './artifact.contract.js';
import { loadArtifact } from './artifact.js';
import { averagePrecision, logLoss } from './metrics.js';
import { artifactProblem, decidePromotion, type HoldoutScore, type ModelRegistry, type VersionRecord } from './registry.js';

/**
 * Judging a candidate: it and the current model scored on the same
 * held-out examples, the decision (registry.ts decidePromotion), and the
 * candidate registered with both figures. Loads tfjs in the calling
 * thread, as training does.
 */

/** One artifact's calibrated probabilities scored as the registry compares models: average precision (decides) and log-loss (recorded). */
export async function scoreOnHoldout(dir: string, expected: FeatureSpec, holdout: { x: Float32Array; y: Uint8Array; n: number }): Promise<HoldoutScore> {
  const loaded = await loadArtifact(dir, expected);
  try {
    const p = await loaded.predict(holdout.x, holdout.n);
    const ap = averagePrecision(p, holdout.y);
    const loss = logLoss(p, holdout.y);
    return { averagePrecision: Number.isNaN(ap) ? null : ap, logLoss: Number.isNaN(loss) ? null : loss };
  } finally {
    loaded.model.dispose();
  }
}

export interface Holdout {
  x: Float32Array;
  y: Uint8Array;
  n: number;
  positives: number;
  window: { from: string; to: string };
}

export interface JudgeOptions {
  /** The trained artifact, in a folder of its own under the registry root. */
  stagingDir: string;
  holdout: Holdout;
  record: Omit<VersionRecord, 'version' | 'status' | 'reason' | 'holdout'>;
  /** False: register it with its figures, promote nothing. */
  promote: boolean;
  by: string;
}

export interface Judged {
  version: string;
  dir: string;
  promoted: boolean;
  status: VersionRecord['status'];
  reason: string;
  holdout: VersionRecord['holdout'];
}

/**
 * Scores the candidate and the model scoring would load without MODEL_DIR
 * (the registry's current version, or the shipped model) on the held-out
 * examples, decides, and registers the candidate: current only if better.
 */
export async function judgeCandidate(registry: ModelRegistry, o: JudgeOptions): Promise<Judged> {
  const candidate = await scoreOnHoldout(o.stagingDir, registry.expected, o.holdout);
  const judgedAgainst = registry.readSync().current;
  const current = registry.choice();
  let score: HoldoutScore | null = null;
  let note = artifactProblem(current.dir, registry.expected);
  if (note === null) {
    try {
      score = await scoreOnHoldout(current.dir, registry.expected, o.holdout);
    } catch (err) {
      note = (err as Error).message;
    }
  }
  const judged = decidePromotion({ ...candidate, n: o.holdout.n, positives: o.holdout.positives }, { version: current.version, score, note });
  const promote = judged.promote && o.promote;
  const holdout: VersionRecord['holdout'] = {
    window: o.holdout.window,
    n: o.holdout.n,
    positives: o.holdout.positives,
    candidate,
    current: { version: current.version, averagePrecision: score?.averagePrecision ?? null, logLoss: score?.logLoss ?? null, note: note ?? current.note },
  };
  const added = await registry.add({
    stagingDir: o.stagingDir,
    record: { ...o.record, holdout },
    decision: {
      promote,
      status: promote ? 'promoted' : judged.promote ? 'candidate' : 'rejected',
      reason: judged.promote && !promote ? `better, but not promoted on request (${judged.reason}): \`ews models promote\` it to use it` : judged.reason,
    },
    judgedAgainst,
    by: o.by,
  });
  return { ...added, holdout };
}
