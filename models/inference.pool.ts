import path from 'node:path';
import { startThreadPool } from '../services/threads/pool.js';
import { reviveError, type SerializedError } from '../services/threads/protocol.js';
import { ModelArtifactError } from './artifact.contract.js';
import type { ArtifactMetadata, FeatureSpec } from './artifact.contract.js';
import type { BackendPreference } from './backend.js';
import type { InferenceThread, InferenceWorkerData } from './inference.protocol.js';

/**
 * Model inference off the main event loop: `threads` threads of the
 * project's thread pool (services/threads), each with its own tfjs engine
 * and the model loaded once. A call's rows are cut into chunks, spread over
 * the threads and put back in order. tfjs is never loaded in the calling
 * thread.
 */

export interface InferencePool {
  /**
   * Calibrated probabilities for n windows laid out as [n, steps, features].
   * x is copied into the workers' messages unless `handOver` is set: then a
   * call of at most HAND_OVER_ROWS rows that owns its whole buffer goes to one
   * worker as it is (x is detached; no copy), which is what scoring does with
   * windows it no longer needs. Larger calls are split over the workers.
   */
  predict(x: Float32Array, n: number, options?: { handOver?: boolean }): Promise<Float32Array>;
  /** The tfjs backend the workers run on. */
  readonly backend: string;
  /** The artifact's name (its directory), recorded with every score. */
  readonly version: string;
  readonly metadata: ArtifactMetadata;
  readonly threads: number;
  /** Finishes in-flight calls, then stops the workers. */
  close(): Promise<void>;
}

export interface InferencePoolOptions {
  /** Default 2 (one per core here; wasm is single-threaded per engine in Node). */
  threads?: number;
  /** Backend for the workers; default: tfjs-node if installed, else wasm. */
  prefer?: BackendPreference;
}

/** Rows per message: big enough to amortise a message, small enough to balance the workers. */
const CHUNK_ROWS = 8192;

/**
 * A handed-over call up to this many rows goes whole to one worker: scoring
 * keeps several shards in flight, so the workers stay busy without cutting
 * a shard up, and its windows (1,000,000 employers: 2.4 GB) are not copied
 * on this thread.
 */
export const HAND_OVER_ROWS = 32_768;

const WORKER_SCRIPT = new URL('./inference.worker.mjs', import.meta.url);

function revive(error: SerializedError): Error {
  switch (error.name) {
    case 'ModelArtifactError':
      return new ModelArtifactError(error.message);
    case 'RangeError':
      return new RangeError(error.message);
    default:
      return reviveError(error);
  }
}

export async function startInferencePool(dir: string, expected: FeatureSpec, opts: InferencePoolOptions = {}): Promise<InferencePool> {
  const threads = opts.threads ?? 2;
  const workerData: InferenceWorkerData = {
    dir,
    expected: { version: expected.version, steps: expected.steps, names: [...expected.names] },
    ...(opts.prefer === undefined ? {} : { prefer: opts.prefer }),
  };
  const { pool, info } = await startThreadPool<InferenceThread>({ script: WORKER_SCRIPT, data: workerData, threads, name: 'inference', reviveError: revive });
  const first = info[0];
  if (!first) throw new Error('inference pool started no workers');
  const rowSize = expected.steps * expected.names.length;
  let closed = false;

  return {
    backend: first.backend,
    version: path.basename(path.resolve(dir)),
    metadata: first.metadata,
    threads,
    close: () => {
      closed = true;
      return pool.close();
    },
    async predict(x: Float32Array, n: number, options: { handOver?: boolean } = {}): Promise<Float32Array> {
      if (closed) throw new Error('inference pool is closed');
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
      if (x.length !== n * rowSize) {
        throw new RangeError(
          `input has ${x.length} values, expected n × steps × features = ${n} × ${expected.steps} × ${expected.names.length} = ${n * rowSize}`,
        );
      }
      if (n === 0) return new Float32Array(0);
      const ownsBuffer = x.byteOffset === 0 && x.byteLength === x.buffer.byteLength && x.buffer instanceof ArrayBuffer;
      if (options.handOver === true && ownsBuffer && n <= HAND_OVER_ROWS) {
        return pool.run({ x, n }, [x.buffer]);
      }
      const out = new Float32Array(n);
      const chunkRows = Math.max(1, Math.min(CHUNK_ROWS, Math.ceil(n / Math.max(1, pool.live))));
      let next = 0;
      let failed = false;
      // At most two chunks in flight per worker, so a huge call does not copy
      // all its rows into messages at once.
      const lane = async (): Promise<void> => {
        while (!failed && next < n) {
          const start = next;
          const rows = Math.min(chunkRows, n - start);
          next += rows;
          const chunk = x.slice(start * rowSize, (start + rows) * rowSize);
          try {
            out.set(await pool.run({ x: chunk, n: rows }, [chunk.buffer]), start);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, 2 * pool.live) }, lane));
      return out;
    },
  };
}

/**
 * What scoring asks of a pool (services/scoring ModelScorer): its version,
 * the feature reference the explanation's drivers are measured against
 * (stored with the artifact; null for an artifact without one), and
 * probabilities for windows handed over.
 */
export function poolScorer(pool: InferencePool): {
  version: string;
  reference: { mean: number[]; sd: number[] } | null;
  predict: (x: Float32Array, n: number) => Promise<Float32Array>;
} {
  return { version: pool.version, reference: pool.metadata.reference ?? null, predict: (x, n) => pool.predict(x, n, { handOver: true }) };
}
