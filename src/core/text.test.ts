import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basename } from './text.ts';

test('basename of Windows and POSIX paths', () => {
  assert.equal(basename('C:\\Users\\x\\AppData\\Local\\Temp\\svchost.exe'), 'svchost.exe');
  assert.equal(basename('/tmp/.x/kswapd0'), 'kswapd0');
  assert.equal(basename('xmrig'), 'xmrig');
  assert.equal(basename('/usr/bin/'), '');
  assert.equal(basename('\\device\\harddiskvolume1\\programdata\\x/svchost.exe'), 'svchost.exe');
});
