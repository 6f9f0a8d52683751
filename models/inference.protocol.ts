import type { ArtifactMetadata, FeatureSpec } from './artifact.contract.js';
import type { BackendPreference } from './backend.js';

/** What the inference pool and its workers say to each other (see worker-pool.ts). */

export interface InferenceWorkerData {
  dir: string;
  expected: FeatureSpec;
  prefer?: BackendPreference;
}

export interface InferenceWorkerInfo {
  backend: string;
  metadata: ArtifactMetadata;
}

/** Rows of one chunk, [n, steps, features]; its buffer is transferred. */
export interface InferenceRequest {
  x: Float32Array;
  n: number;
}

/** Calibrated probabilities, one per row; its buffer is transferred back. */
export type InferenceResult = Float32Array;
