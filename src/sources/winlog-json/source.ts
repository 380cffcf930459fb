import type { Source } from '../../core/stages.ts';
import { batched } from '../batched.ts';
import { readWinlogJson, sniffWinlogJson } from './index.ts';

/** JSON event-log exports: the EVTX-dumper layout and Winlogbeat/Elastic documents. */
export const winlogJsonSource: Source = {
  name: 'winlog-json',
  sniff: (head) => sniffWinlogJson(head),
  read: (path) => batched(readWinlogJson(path), (item) => item),
};
