import type { ModelKind } from './architecture.js';
import type { Calibration } from './calibration.js';
import type { Metrics } from './metrics.js';

/**
 * What a model artifact promises, without tfjs: the inference pool's main
 * thread imports this, and tfjs stays in the worker threads.
 */

/** The features the scorer builds; supplied by the caller, stored with the model. */
export interface FeatureSpec {
  version: string;
  /** Months per window. */
  steps: number;
  /** One name per feature, in input order. */
  names: readonly string[];
}

/** metadata.json */
export interface ArtifactMetadata {
  formatVersion: 1;
  kind: ModelKind;
  featureSpec: FeatureSpec;
  /** The months the training labels came from, as the caller names them (e.g. 2023-01). */
  trainingWindow: { from: string; to: string };
  seed: number;
  metrics: Metrics;
  calibration: Calibration;
  tfjsVersion: string;
  /** The tfjs backend that trained the model. */
  backend: string;
  createdAt: string;
  notes?: string;
  /** Last-month mean and spread of each feature over ordinary employers of the training province (drivers are measured against it). */
  reference?: { mean: number[]; sd: number[] };
}

/** A model directory that cannot be used, with what to do about it. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
}

/** How the scorer should react to a model that does not fit: rebuild it. */
export function featureMismatchMessage(dir: string, trained: FeatureSpec, expected: FeatureSpec): string | undefined {
  const sameNames =
    trained.names.length === expected.names.length && trained.names.every((name, i) => name === expected.names[i]);
  if (trained.version === expected.version && trained.steps === expected.steps && sameNames) return undefined;
  const describe = (spec: FeatureSpec): string =>
    spec.steps === (spec === trained ? expected : trained).steps
      ? `${spec.names.length} features`
      : `${spec.names.length} features × ${spec.steps} months`;
  let detail = '';
  if (trained.version === expected.version && trained.steps === expected.steps) {
    const i = trained.names.findIndex((name, j) => name !== expected.names[j]);
    const at = i === -1 ? trained.names.length : i;
    detail = ` with different feature names (first difference at #${at}: ${JSON.stringify(trained.names[at] ?? null)} vs ${JSON.stringify(expected.names[at] ?? null)})`;
  }
  return (
    `model ${dir} was trained on feature version ${trained.version} (${describe(trained)}), ` +
    `this code builds ${expected.version} (${describe(expected)})${detail}: retrain with \`npx ews train\``
  );
}
