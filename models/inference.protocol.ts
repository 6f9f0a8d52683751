import type { ThreadKind } from '../services/threads/protocol.js';
import type { ArtifactMetadata, FeatureSpec } from './artifact.contract.js';
import type { BackendPreference } from './backend.js';

/** What the inference pool and its threads say to each other (over services/threads: pool.ts, thread.ts). */

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

/** An inference thread: started with the artifact to load, says which backend it runs on; asks nothing. */
export interface InferenceThread extends ThreadKind {
  data: InferenceWorkerData;
  info: InferenceWorkerInfo;
  request: InferenceRequest;
  result: InferenceResult;
  ask: never;
  answer: never;
}
