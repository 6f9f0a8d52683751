import { serveThread } from '../services/threads/thread.js';
import { loadArtifact } from './artifact.js';
import { initTf } from './backend.js';
import type { InferenceThread } from './inference.protocol.js';

/**
 * One inference thread: its own tfjs engine (wasm runs one thread per
 * engine in Node), the model loaded once, then one answer per chunk, its
 * buffer handed back. Started through inference.worker.mjs, which registers
 * tsx first.
 */
serveThread<InferenceThread>({
  async start({ dir, expected, prefer }) {
    const { backend } = await initTf(prefer);
    const loaded = await loadArtifact(dir, expected);
    return {
      info: { backend, metadata: loaded.metadata },
      async handle({ x, n }) {
        const value = await loaded.predict(x, n);
        return { value, transfer: [value.buffer as ArrayBuffer] };
      },
    };
  },
});
