// Worker threads start without the tsx loader that the CLI or the test
// runner registered in the main thread: register it, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./train.thread.ts');
