import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMiningLine } from './mining-protocol.ts';

test('XMRig login names agent, wallet and algorithms', () => {
  const m = parseMiningLine(
    '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0","cn/r"]}}',
  );
  assert.equal(m?.protocol, 'cryptonote-stratum');
  assert.equal(m?.role, 'client');
  assert.match(m?.agent ?? '', /^XMRig\/6\.21\.0/);
  assert.match(m?.user ?? '', /^44AFF/);
  assert.equal(m?.algorithm, 'rx/0,cn/r');
});

test('stratum v1, Ethereum stratum, getblocktemplate and pool pushes', () => {
  assert.equal(
    parseMiningLine('{"id": 2, "method": "mining.subscribe", "params": ["cgminer/3.7.2"]}')?.agent,
    'cgminer/3.7.2',
  );
  assert.equal(
    parseMiningLine('{"params": ["w.1", "x"], "id": 3, "method": "mining.authorize"}')?.user,
    'w.1',
  );
  assert.equal(parseMiningLine('{"id":null,"method":"mining.notify","params":["a"]}')?.role, 'pool');
  assert.equal(
    parseMiningLine('{"id":1,"method":"eth_submitLogin","params":["0xabc"],"worker":"rig"}')?.user,
    '0xabc',
  );
  assert.equal(
    parseMiningLine('{"method": "getblocktemplate", "params": [{}], "id": 0}')?.protocol,
    'getblocktemplate',
  );
  assert.equal(
    parseMiningLine(
      '{"jsonrpc":"2.0","method":"job","params":{"blob":"0707","job_id":"1","target":"ff","algo":"rx/0"}}',
    )?.algorithm,
    'rx/0',
  );
  const reply = parseMiningLine(
    '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"07","job_id":"9"},"status":"OK"}}',
  );
  assert.equal(reply?.method, 'login-result');
});

test('ordinary JSON-RPC is not mining', () => {
  assert.equal(
    parseMiningLine('{"jsonrpc":"2.0","method":"login","params":{"user":"alice","password":"x"}}'),
    undefined,
  );
  assert.equal(parseMiningLine('{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{}}'), undefined);
  assert.equal(parseMiningLine('{"jsonrpc":"2.0","method":"submit","params":{"form":1}}'), undefined);
  assert.equal(parseMiningLine('{"method":"getblockcount","id":1}'), undefined);
  // A line cut mid-way still gives its stratum method away.
  assert.equal(
    parseMiningLine('{"id":4,"method":"mining.submit","params":["w.1","j')?.method,
    'mining.submit',
  );
});
