import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { loadArtifact } from './artifact.js';
import type { LoadedModel } from './artifact.js';
import { initTf } from './backend.js';
import type { InferenceRequest, InferenceResult, InferenceWorkerData, InferenceWorkerInfo } from './inference.protocol.js';
import { serializeError } from './worker-pool.js';
import type { TaskMessage, WorkerMessage } from './worker-pool.js';

/**
 * One inference thread: its own tfjs engine (wasm runs one thread per
 * engine in Node), the model loaded once, then one answer per chunk.
 * Started through inference.worker.mjs, which registers tsx first.
 */

type Outgoing = WorkerMessage<InferenceWorkerInfo, InferenceResult>;

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('inference.worker.ts runs in a worker thread (see inference.pool.ts)');
  return parentPort;
}

const port = requirePort();
const data = workerData as InferenceWorkerData;

async function answer(loaded: LoadedModel, message: TaskMessage<InferenceRequest>): Promise<void> {
  let reply: Outgoing;
  let transfer: ArrayBuffer[] = [];
  try {
    const value = await loaded.predict(message.request.x, message.request.n);
    reply = { kind: 'result', id: message.id, value };
    transfer = [value.buffer as ArrayBuffer];
  } catch (err) {
    reply = { kind: 'error', id: message.id, error: serializeError(err) };
  }
  port.postMessage(reply, transfer);
}

try {
  const { backend } = await initTf(data.prefer);
  const loaded = await loadArtifact(data.dir, data.expected);
  port.on('message', (message: TaskMessage<InferenceRequest>) => {
    void answer(loaded, message);
  });
  const ready: Outgoing = { kind: 'ready', info: { backend, metadata: loaded.metadata } };
  port.postMessage(ready);
} catch (err) {
  const failed: Outgoing = { kind: 'startup-failed', error: serializeError(err) };
  port.postMessage(failed);
}
