// Entry of the engine worker thread. Node 20 does not apply the parent's `--import tsx` hooks to a worker's
// entry file, so this plain-JS entry registers tsx in the worker, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
