import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;
export type BackendPreference = 'node' | 'wasm' | 'cpu';

export interface TfRuntime {
  tf: Tf;
  /** The tfjs backend in use: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  backend: string;
}

const require = createRequire(import.meta.url);
let runtime: Promise<TfRuntime> | undefined;

/**
 * Loads tfjs once per thread and picks the fastest backend that works:
 * tfjs-node when it is installed (an optional dependency whose install needs
 * network), else the wasm backend, else the pure-JS cpu backend. `prefer`
 * moves one backend to the front of that order. Later calls return the first
 * call's runtime whatever they prefer: a thread has one tfjs engine.
 */
export function initTf(prefer?: BackendPreference): Promise<TfRuntime> {
  runtime ??= pick(prefer).catch((err: unknown) => {
    runtime = undefined;
    throw err;
  });
  return runtime;
}

async function pick(prefer: BackendPreference | undefined): Promise<TfRuntime> {
  const order: BackendPreference[] = ['node', 'wasm', 'cpu'];
  if (prefer) order.sort((a, b) => Number(b === prefer) - Number(a === prefer));
  const failures: string[] = [];
  for (const candidate of order) {
    try {
      const loaded = await load(candidate);
      if (loaded) return loaded;
      failures.push(`${candidate}: not installed`);
    } catch (err) {
      failures.push(`${candidate}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${failures.join('; ')})`);
}

async function load(candidate: BackendPreference): Promise<TfRuntime | undefined> {
  switch (candidate) {
    case 'node': {
      if (!resolvable('@tensorflow/tfjs-node')) return undefined;
      // A variable specifier: the package is optional, so TypeScript must not
      // resolve it. It re-exports @tensorflow/tfjs and registers 'tensorflow'.
      const specifier = '@tensorflow/tfjs-node';
      const tf = (await import(specifier)) as Tf;
      await use(tf, 'tensorflow');
      return { tf, backend: 'tensorflow' };
    }
    case 'wasm': {
      if (!resolvable('@tensorflow/tfjs-backend-wasm')) return undefined;
      const tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the backend cannot find its .wasm files on its own; they ship
      // next to the package's main file. The prefix must end with a separator.
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
      wasm.setWasmPaths(dist + path.sep);
      await use(tf, 'wasm');
      return { tf, backend: 'wasm' };
    }
    case 'cpu': {
      const tf = await import('@tensorflow/tfjs');
      await use(tf, 'cpu');
      return { tf, backend: 'cpu' };
    }
  }
}

async function use(tf: Tf, name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} did not initialise`);
  await tf.ready();
}

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
