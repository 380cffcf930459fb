// Hunt worker entry when deminer runs from its TypeScript sources (tests, a
// checkout without a fresh bundle): the worker process registers the
// TypeScript loader itself before it loads the worker.
import { register } from 'tsx/esm/api';

register();
await import('./hunt-worker.ts');
