import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALPHABET, decodeBase58, encodeBase58 } from './base58.ts';
import { keccak256 } from './keccak.ts';
import { checkWallet, findWallets, WALLET_LENGTHS, walletsIn } from './wallet.ts';

/**
 * Real, published addresses (see wallet.test.ts for the Monero ones):
 * - the Monero general fund's old donation address (getmonero.org, Moneropedia "address");
 * - the donation subaddress the same page prints today;
 * - the integrated example of the `monero` crate's documentation (docs.rs monero::util::address);
 * - Infinium-8's developer-fee address, as its daemon's CryptoNoteConfig.hpp publishes it
 *   (`DEVELOPER_FEE_WALLET_ADDRESS`, next to `ADDRESS_BASE58_PREFIX = 1288825`).
 */
const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const DONATION_SUBADDRESS =
  '888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H';
const CRATE_INTEGRATED =
  '4Byr22j9M2878Mtyb3fEPcBNwBZf5EXqn1Yi6VzR46618SFBrYysab2Cs1474CVDbsh94AJq7vuV3Z2DRq4zLcY3LHzo1Nbv3d8J6VhvCV';
const INFINIUM_DEV_FEE =
  'inf8VpqmHRoMiNqbck73gwdc9UjB42AKzhmESbpn9kBoBs7sPfmYj3YGJamMbPy3HQLYiQeshbMz3go9QxJeKETw1Md7qnpchq';

function corrupt(address: string, at: number): string {
  const c = address[at]!;
  const other = ALPHABET[(ALPHABET.indexOf(c) + 1) % 58]!;
  return address.slice(0, at) + other + address.slice(at + 1);
}

/** Deterministic pseudo-random base58 text (a linear congruential generator). */
function randomBase58(length: number, seed: number): string {
  let s = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out += ALPHABET[s % 58]!;
  }
  return out;
}

test('address lengths follow from the prefixes: 95/106 for one-byte prefixes, 98 for Infinium-8', () => {
  assert.deepEqual(WALLET_LENGTHS, [95, 98, 106]);
});

test("Infinium-8: its published developer-fee address validates with prefix 1288825 ('inf8', 98 characters)", () => {
  assert.equal(INFINIUM_DEV_FEE.length, 98);
  const r = checkWallet(INFINIUM_DEV_FEE);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.wallet.coin, 'infinium');
  assert.equal(r.wallet.kind, 'standard');
  for (const at of [4, 30, 60, 97])
    assert.equal(checkWallet(corrupt(INFINIUM_DEV_FEE, at)).ok, false, `at ${at}`);
  // Monero's keys under Infinium's prefix with a fresh checksum: what an Infinium wallet would print.
  const keys = decodeBase58(GENERAL_FUND)!.subarray(1, 65);
  const body = new Uint8Array([0xf9, 0xd4, 0x4e, ...keys]);
  assert.equal(0x79 + 0x54 * 128 + 0x4e * 128 * 128, 1288825, 'the varint bytes spell the prefix');
  const made = encodeBase58(new Uint8Array([...body, ...keccak256(body).subarray(0, 4)]));
  assert.ok(made.startsWith('inf8'), made);
  const m = checkWallet(made);
  assert.ok(m.ok && m.wallet.coin === 'infinium', JSON.stringify(m));
});

test('findWallets: every coin and kind in command lines, task XML, scripts; each address once, in order', () => {
  const cmd = `C:\\ProgramData\\w.exe -o 198.51.100.7:3333 -u ${GENERAL_FUND}.rig01 -p x -k`;
  assert.deepEqual(
    findWallets(cmd).map((w) => w.address),
    [GENERAL_FUND],
  );
  const xml = `<Exec><Command>a.exe</Command><Arguments>--user=${DONATION_SUBADDRESS}+50000 -o h:1</Arguments></Exec>`;
  assert.deepEqual(
    findWallets(xml).map((w) => [w.coin, w.kind]),
    [['monero', 'subaddress']],
  );
  const many = `$w='${CRATE_INTEGRATED}'; $i="${INFINIUM_DEV_FEE}"; $again='${CRATE_INTEGRATED}'`;
  assert.deepEqual(
    findWallets(many).map((w) => [w.coin, w.kind]),
    [
      ['monero', 'integrated'],
      ['infinium', 'standard'],
    ],
  );
  // The option glued to the address (-uADDRESS) and an address glued to a base58 worker name.
  assert.deepEqual(
    findWallets(`xmrig -uB${GENERAL_FUND} -o h:1`).map((w) => w.address),
    [GENERAL_FUND],
  );
  assert.deepEqual(
    findWallets(`${GENERAL_FUND}worker7`).map((w) => w.address),
    [GENERAL_FUND],
  );
  assert.deepEqual(walletsIn(cmd), findWallets(cmd), 'walletsIn is the same finder');
});

test('findWallets: corrupted addresses, random base58 and look-alikes find nothing', () => {
  for (const a of [GENERAL_FUND, DONATION_SUBADDRESS, CRATE_INTEGRATED, INFINIUM_DEV_FEE]) {
    for (const at of [1, 12, 50, a.length - 1])
      assert.deepEqual(findWallets(`-u ${corrupt(a, at)} -p x`), [], `${a} changed at ${at}`);
    assert.deepEqual(findWallets(`-u ${a.slice(0, -1)}`), [], 'truncated');
  }
  // Random base58 of every address length, starting like an address, and long runs.
  for (let seed = 1; seed <= 300; seed++) {
    for (const len of [95, 98, 106]) {
      assert.deepEqual(findWallets(`-u 4${randomBase58(len - 1, seed)}`), []);
      assert.deepEqual(findWallets(`-u 8${randomBase58(len - 1, seed * 7)}`), []);
    }
  }
  assert.deepEqual(findWallets(randomBase58(5000, 42)), []);
  assert.deepEqual(findWallets('4'.repeat(95)), []);
  assert.deepEqual(findWallets(`${'A'.repeat(40)}/${'b'.repeat(120)}+${'9'.repeat(95)}`), []);
});

test('findWallets stays linear: a megabyte of base58 and separators is scanned quickly', () => {
  const chunk = `${randomBase58(96, 9)} ${randomBase58(200, 10)}=`;
  const big = chunk.repeat(Math.ceil(1_000_000 / chunk.length));
  const t0 = performance.now();
  assert.deepEqual(findWallets(big), []);
  const ms = performance.now() - t0;
  // Generous bound: it is there to catch quadratic behaviour, not to time the machine.
  assert.ok(ms < 5000, `${ms} ms`);
});
