// Worker threads do not inherit `--import tsx`'s loader in Node 20, so the
// worker registers the TypeScript loader itself before it loads the loop.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
