import type { FeatureSpec } from './artifact.contract.js';
import { startInferencePool, type InferencePool } from './inference.pool.js';
import { resolveModelArtifact, SHIPPED_MODEL_DIR, type ModelChoice } from './registry.js';

/**
 * The model every composition root that scores opens (`ews score`,
 * `ews nightly`, the service's workers, the benchmark): the artifact
 * resolveModelArtifact picks, in its inference threads. A registry version
 * that will not load gives way to the shipped model; when nothing loads,
 * `pool` is null and `note` says why (scoring goes on with rules only).
 */

export interface ScoringModel {
  pool: InferencePool | null;
  choice: ModelChoice;
  /** The artifact loaded; `pool.version` (its folder's name) is what the run records. */
  dir: string | null;
  /** Rules only, or a fallback from the registry to the shipped model: why. Null when the chosen artifact loaded. */
  note: string | null;
}

export interface OpenScoringModelOptions {
  /** MODEL_DIR when set. */
  configuredDir?: string | undefined;
  /** EWS_DATA_DIR (the registry is its models/ folder). */
  dataDir: string;
  expected: FeatureSpec;
  threads: number;
  shippedDir?: string;
}

/** Opens the artifact resolveModelArtifact picks, or `choice` when the caller has resolved it already. */
export async function openScoringModel(o: OpenScoringModelOptions, choice: ModelChoice = resolveModelArtifact(o)): Promise<ScoringModel> {
  const passedOver = choice.note;
  try {
    const pool = await startInferencePool(choice.dir, o.expected, { threads: o.threads });
    return { pool, choice, dir: choice.dir, note: passedOver === null ? null : `${passedOver}: scoring with the shipped model` };
  } catch (err) {
    const reason = (err as Error).message;
    if (choice.source !== 'registry') {
      return { pool: null, choice, dir: null, note: `model not used, scoring with rules only: ${passedOver === null ? reason : `${passedOver}; the shipped model: ${reason}`}` };
    }
    const shippedDir = o.shippedDir ?? SHIPPED_MODEL_DIR;
    try {
      const pool = await startInferencePool(shippedDir, o.expected, { threads: o.threads });
      return { pool, choice, dir: shippedDir, note: `registry version ${choice.version} not used (${reason}): scoring with the shipped model` };
    } catch (second) {
      return { pool: null, choice, dir: null, note: `model not used, scoring with rules only: registry version ${choice.version}: ${reason}; the shipped model: ${(second as Error).message}` };
    }
  }
}
