import { apiSuite } from './api.suite.ts';
import { sqliteOpener } from './helpers.ts';

apiSuite('sqlite', sqliteOpener);
