import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALPHABET, decodeBase58, encodeBase58 } from './base58.ts';
import { keccak256 } from './keccak.ts';
import { checkWallet, walletsIn } from './wallet.ts';

/**
 * Real, published addresses:
 * - the Monero general fund's old donation address, as getmonero.org's
 *   Moneropedia ("address") printed it (standard, 95 characters, '4');
 * - the donation subaddress the same page prints today ('8', 95);
 * - the standard and integrated examples of the `monero` crate's
 *   documentation (docs.rs monero::util::address), whose payment id the
 *   documentation gives as [88, 118, 184, 183, 41, 150, 255, 151];
 * - a testnet address from monero-python's documentation.
 */
const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const DONATION_SUBADDRESS =
  '888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H';
const CRATE_STANDARD =
  '4ADT1BtbxqEWeMKp9GgPr2NeyJXXtNxvoDawpyA4WpzFcGcoHUvXeijE66DNfohE9r1bQYaBiQjEtKE7CtkTdLwiDznFzra';
const CRATE_INTEGRATED =
  '4Byr22j9M2878Mtyb3fEPcBNwBZf5EXqn1Yi6VzR46618SFBrYysab2Cs1474CVDbsh94AJq7vuV3Z2DRq4zLcY3LHzo1Nbv3d8J6VhvCV';
const TESTNET =
  'A2GmyHHJ9jtUhPiwoAbR2tXU9LJu2U6fJjcsv3rxgkVRWU6tEYcn6C1NBc7wqCv5V7NW3zeYuzKf6RGGgZTFTpVC4QxAiAX';

test('base58: blocks of 8 bytes are 11 characters, the last block shorter; round trip', () => {
  assert.equal(encodeBase58(new Uint8Array(8)), '11111111111');
  assert.equal(encodeBase58(new Uint8Array([0xff])), '5Q');
  assert.equal(encodeBase58(new Uint8Array(8).fill(0xff)), 'jpXCZedGfVQ');
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 69, 77]) {
    const data = new Uint8Array(n).map((_, i) => (i * 97 + 13) & 0xff);
    const text = encodeBase58(data);
    assert.equal(
      text.length,
      Math.floor(n / 8) * 11 + [0, 2, 3, 5, 6, 7, 9, 10, 11][n % 8]!,
      `length of ${n} bytes`,
    );
    assert.deepEqual(decodeBase58(text), data);
  }
  assert.equal(decodeBase58('1111'), undefined, 'a 4-character block holds no whole number of bytes');
  assert.equal(decodeBase58('0OIl'), undefined, 'not in the alphabet');
  assert.equal(decodeBase58('zz'), undefined, 'a 2-character block over 255 is refused');
  assert.equal(ALPHABET.length, 58);
});

test('real Monero addresses validate with their coin, network and kind', () => {
  const cases: [string, string, string][] = [
    [GENERAL_FUND, 'mainnet', 'standard'],
    [DONATION_SUBADDRESS, 'mainnet', 'subaddress'],
    [CRATE_STANDARD, 'mainnet', 'standard'],
    [CRATE_INTEGRATED, 'mainnet', 'integrated'],
    [TESTNET, 'testnet', 'standard'],
  ];
  for (const [address, network, kind] of cases) {
    const r = checkWallet(address);
    assert.ok(r.ok, `${address}: ${r.ok ? '' : r.reason}`);
    assert.equal(r.wallet.coin, 'monero');
    assert.equal(r.wallet.network, network);
    assert.equal(r.wallet.kind, kind);
  }
  const integrated = checkWallet(CRATE_INTEGRATED);
  assert.ok(integrated.ok);
  assert.equal(
    integrated.wallet.paymentId,
    Buffer.from([88, 118, 184, 183, 41, 150, 255, 151]).toString('hex'),
  );
});

/** Swaps one character for another of the alphabet. */
function corrupt(address: string, at: number): string {
  const c = address[at]!;
  const other = ALPHABET[(ALPHABET.indexOf(c) + 1) % 58]!;
  return address.slice(0, at) + other + address.slice(at + 1);
}

test('corrupted addresses are refused: one character changed anywhere, truncated, wrong length', () => {
  for (const a of [GENERAL_FUND, DONATION_SUBADDRESS, CRATE_INTEGRATED]) {
    for (const at of [1, 10, 40, 80, a.length - 1]) {
      const r = checkWallet(corrupt(a, at));
      assert.equal(r.ok, false, `${a} with position ${at} changed`);
    }
  }
  const r = checkWallet(corrupt(GENERAL_FUND, 50));
  assert.ok(!r.ok && r.reason === 'checksum mismatch', JSON.stringify(r));
  assert.equal(checkWallet(GENERAL_FUND.slice(0, 94)).ok, false);
  assert.equal(checkWallet(`${GENERAL_FUND}1`).ok, false);
  assert.equal(checkWallet('4'.repeat(95)).ok, false);
});

test('Bytecoin: prefix 6, 95 characters starting with 2, same checksum', () => {
  // No published Bytecoin address was at hand: one is built from the general fund's keys
  // with Bytecoin's prefix and a fresh checksum, which is what a Bytecoin wallet does.
  const keys = decodeBase58(GENERAL_FUND)!.subarray(1, 65);
  const body = new Uint8Array([6, ...keys]);
  const bcn = encodeBase58(new Uint8Array([...body, ...keccak256(body).subarray(0, 4)]));
  assert.equal(bcn.length, 95);
  assert.equal(bcn[0], '2');
  const r = checkWallet(bcn);
  assert.ok(r.ok && r.wallet.coin === 'bytecoin' && r.wallet.kind === 'standard', JSON.stringify(r));
  assert.equal(checkWallet(corrupt(bcn, 30)).ok, false);
});

test('walletsIn finds valid addresses in command lines and wallet.worker strings, not look-alikes', () => {
  const cmd = `./xmrig -o pool.example:3333 -u ${GENERAL_FUND}.rig01 -p x --donate-level 1`;
  assert.deepEqual(
    walletsIn(cmd).map((w) => w.address),
    [GENERAL_FUND],
  );
  assert.deepEqual(
    walletsIn(`${DONATION_SUBADDRESS}+50000`).map((w) => w.coin),
    ['monero'],
  );
  assert.deepEqual(walletsIn(`-u ${corrupt(GENERAL_FUND, 20)}`), []);
  assert.deepEqual(walletsIn('x'.repeat(300)), []);
});
