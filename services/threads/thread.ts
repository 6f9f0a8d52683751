import { parentPort, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { reviveError, serializeError, type FromThread, type Reply, type ThreadKind, type ToThread } from './protocol.js';

/**
 * The thread side of the pool, written once: a thread module is a call to
 * serveThread with how it starts (the same in every thread of the kind) and
 * what it does with a task. serveThread says `ready` with the info start
 * gives, or `startup-failed` with its error; runs each task as it comes
 * (several may be in flight); carries the task's asks to the owner and their
 * answers back; and on `close` runs the service's close (its connections)
 * and ends the thread.
 */

/** Asks the owning thread; `transfer` moves buffers instead of copying them. */
export type AskOwner<K extends ThreadKind> = (request: K['ask'], transfer?: readonly TransferListItem[]) => Promise<K['answer']>;

/** A started thread. */
export interface ThreadService<K extends ThreadKind> {
  info: K['info'];
  /** One task; its result is posted back (with `transfer` moved). A throw is the task's error, not the thread's. */
  handle(request: K['request'], ask: AskOwner<K>): Promise<Reply<K['result']>>;
  /** Releases what the thread holds (database connections) before it exits. */
  close?(): Promise<void>;
}

export interface ThreadDefinition<K extends ThreadKind> {
  /** Called once with the thread's data; a throw is reported as the pool's start-up failure. */
  start(data: K['data']): Promise<ThreadService<K>> | ThreadService<K>;
}

export function serveThread<K extends ThreadKind>(definition: ThreadDefinition<K>): void {
  const port = parentPort;
  if (!port) throw new Error('serveThread runs in a worker thread started by a thread pool (services/threads/pool.ts)');
  const send = (message: FromThread<K>, transfer: readonly TransferListItem[] = []): void => port.postMessage(message, [...transfer]);
  const asked = new Map<number, { resolve: (value: K['answer']) => void; reject: (err: Error) => void }>();
  let nextAsk = 1;
  const ask: AskOwner<K> = (request, transfer = []) =>
    new Promise<K['answer']>((resolve, reject) => {
      const id = nextAsk++;
      asked.set(id, { resolve, reject });
      try {
        send({ kind: 'ask', id, request }, transfer);
      } catch (err) {
        asked.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });

  const serve = (service: ThreadService<K>): void => {
    const run = async (id: number, request: K['request']): Promise<void> => {
      try {
        const { value, transfer } = await service.handle(request, ask);
        send({ kind: 'result', id, value }, transfer);
      } catch (err) {
        // The task's own error, or a result that could not be posted.
        send({ kind: 'error', id, error: serializeError(err) });
      }
    };
    let closing = false;
    port.on('message', (message: ToThread<K>) => {
      switch (message.kind) {
        case 'task':
          void run(message.id, message.request);
          break;
        case 'answer':
        case 'answer-error': {
          const waiting = asked.get(message.id);
          if (!waiting) break;
          asked.delete(message.id);
          if (message.kind === 'answer') waiting.resolve(message.value);
          else waiting.reject(reviveError(message.error));
          break;
        }
        case 'close':
          if (closing) break;
          closing = true;
          void Promise.resolve()
            .then(() => service.close?.())
            .then(
              () => process.exit(0),
              (err: unknown) => {
                process.stderr.write(`thread close failed: ${serializeError(err).message}\n`);
                process.exit(1);
              },
            );
          break;
      }
    });
    send({ kind: 'ready', info: service.info });
  };

  void (async () => {
    let service: ThreadService<K>;
    try {
      service = await definition.start(workerData as K['data']);
    } catch (err) {
      send({ kind: 'startup-failed', error: serializeError(err) });
      return;
    }
    serve(service);
  })();
}
