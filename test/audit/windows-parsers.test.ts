import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeText, readInput } from '../../src/audit/decode.ts';
import { detectKind, readWindowsExport } from '../../src/audit/windows/detect.ts';
import { WindowsFacts } from '../../src/audit/windows/facts.ts';
import { EXCHANGE, GPO, skipUnlessCorpora } from './corpus.ts';
import {
  appLockerPolicy,
  auditpolBackupGerman,
  auditpolGetFrench,
  exsetupText,
  GUID,
  gpoReport,
  hotfixTable,
  msinfoReport,
  secEditInf,
  systeminfo,
  tempDir,
  utf16beBom,
  utf16leBom,
  wdacPolicy,
  write,
} from './fixtures.ts';

const PC = '{0cce922b-69ae-11d9-bed3-505054503030}';
const SSE = '{0cce9211-69ae-11d9-bed3-505054503030}';
const DFS = '{0cce9244-69ae-11d9-bed3-505054503030}';

function read(
  text: string | Buffer,
  name = 'input',
): { facts: WindowsFacts; kind: string | undefined; issue?: string } {
  const facts = new WindowsFacts();
  const t = typeof text === 'string' ? text : decodeText(text);
  const r = readWindowsExport(t, name, facts);
  return 'code' in r ? { facts, kind: undefined, issue: `${r.code} ${r.location}` } : { facts, kind: r.kind };
}

const auditOf = (f: WindowsFacts, guid: string, legacy?: string) =>
  f.read({ method: 'audit_subcategory', arg: guid, ...(legacy ? { legacy } : {}) })?.value;

test('decodes UTF-16LE and UTF-16BE with BOM, UTF-16LE without BOM, and UTF-8 with BOM', () => {
  const s = '[Privilege Rights]\r\nSeDebugPrivilege = *S-1-5-32-544\r\n';
  assert.equal(decodeText(utf16leBom(s)), s);
  assert.equal(decodeText(utf16beBom(s)), s);
  assert.equal(decodeText(Buffer.from(s, 'utf16le')), s);
  assert.equal(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)])), s);
});

test('secedit INF in UTF-16LE with BOM: privileges as SIDs (names mapped), registry values, system access', () => {
  const inf = secEditInf({
    privileges: {
      SeDebugPrivilege: '*S-1-5-32-544,*S-1-5-21-1-2-3-1001',
      SeLoadDriverPrivilege: 'Administrators,BUILTIN\\Users',
      SeTcbPrivilege: '',
    },
    registry: { 'MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\SCENoApplyLegacyAuditPolicy': '4,1' },
  });
  const { facts, kind } = read(inf, 'host1/secpol.cfg');
  assert.equal(kind, 'security-template');
  assert.deepEqual(facts.get('privilege', 'SeDebugPrivilege')?.value, [
    'S-1-5-32-544',
    'S-1-5-21-1-2-3-1001',
  ]);
  assert.deepEqual(facts.get('privilege', 'SeLoadDriverPrivilege')?.value, ['S-1-5-32-544', 'S-1-5-32-545']);
  assert.deepEqual(facts.get('privilege', 'SeTcbPrivilege')?.value, []);
  // HKLM\ and MACHINE\ name the same key.
  assert.equal(
    facts.get('registry', 'HKLM\\System\\CurrentControlSet\\Control\\Lsa\\SCENoApplyLegacyAuditPolicy')
      ?.value,
    '1',
  );
  assert.equal(facts.get('system_access', 'EnableGuestAccount')?.value, '0');
  assert.match(facts.get('privilege', 'SeDebugPrivilege')!.source, /^host1\/secpol\.cfg:\d+$/);
  assert.equal(facts.issues.length, 0);
});

test('INF: a malformed line is an issue naming file and line; the rest is still read', () => {
  const inf = secEditInf({
    privileges: { SeDebugPrivilege: '*S-1-5-32-544' },
    extra: ['[Registry Values]', 'MACHINE\\Broken\\Value'],
  });
  const { facts } = read(inf, 'bad.inf');
  assert.equal(facts.issues.length, 1);
  assert.equal(facts.issues[0]!.code, 'AUDIT_INF_BAD_LINE');
  assert.match(facts.issues[0]!.location, /^bad\.inf:\d+$/);
  assert.deepEqual(facts.get('privilege', 'SeDebugPrivilege')?.value, ['S-1-5-32-544']);
});

test('legacy [Event Audit] categories win only when SCENoApplyLegacyAuditPolicy is 0', () => {
  const csv = auditpolBackupGerman({ processCreation: 1, systemExtension: 3, detailedFileShare: 1 });
  const withLegacy = (force: string): WindowsFacts => {
    const facts = new WindowsFacts();
    readWindowsExport(csv, 'audit.csv', facts);
    const inf = secEditInf({
      eventAudit: { AuditProcessTracking: 0 },
      registry: {
        'MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\SCENoApplyLegacyAuditPolicy': `4,${force}`,
      },
    });
    readWindowsExport(decodeText(inf), 'secpol.inf', facts);
    return facts;
  };
  assert.equal(auditOf(withLegacy('1'), PC, 'AuditProcessTracking'), 'success');
  const legacy = withLegacy('0');
  assert.equal(auditOf(legacy, PC, 'AuditProcessTracking'), 'no_auditing');
  assert.match(
    legacy.read({ method: 'audit_subcategory', arg: PC, legacy: 'AuditProcessTracking' })!.note!,
    /legacy category/,
  );
});

test('auditpol /backup of a German Windows: matched by subcategory GUID, not by the localised name', () => {
  const { facts, kind } = read(
    auditpolBackupGerman({ processCreation: 1, systemExtension: 3, detailedFileShare: 2 }),
  );
  assert.equal(kind, 'audit-csv');
  assert.equal(auditOf(facts, GUID.processCreation.toLowerCase()), 'success');
  assert.equal(auditOf(facts, SSE), 'success_and_failure');
  assert.equal(auditOf(facts, DFS), 'failure');
});

test('auditpol /get /r of a French Windows: inclusion words read when there is no Setting Value column', () => {
  const { facts, kind } = read(auditpolGetFrench());
  assert.equal(kind, 'audit-csv');
  assert.equal(auditOf(facts, PC), 'success_and_failure');
  assert.equal(auditOf(facts, SSE), 'success');
  assert.equal(auditOf(facts, DFS), 'no_auditing');
});

test('auditpol CSV: an unreadable setting is an issue with its line', () => {
  const bad = `${auditpolGetFrench()}WS02,Système,Inconnu,{0cce9999-69ae-11d9-bed3-505054503030},Peut-être,\r\n`;
  const { facts } = read(bad, 'get.csv');
  assert.equal(facts.issues[0]?.code, 'AUDIT_CSV_BAD_SETTING');
  assert.equal(facts.issues[0]?.location, 'get.csv:5');
  assert.equal(auditOf(facts, PC), 'success_and_failure');
});

test('Get-GPOReport XML in UTF-16LE with namespace prefixes of its own choosing', () => {
  const { facts, kind } = read(
    gpoReport({ debug: ['S-1-5-32-544', 'S-1-5-21-9-9-9-1105'], cmdLine: 'Enabled', processCreation: 3 }),
  );
  assert.equal(kind, 'gpo-report');
  assert.deepEqual(facts.get('privilege', 'SeDebugPrivilege')?.value, [
    'S-1-5-32-544',
    'S-1-5-21-9-9-9-1105',
  ]);
  assert.equal(
    facts.get('admin_template', 'Include command line in process creation events')?.value,
    'Enabled',
  );
  assert.equal(auditOf(facts, PC), 'success_and_failure');
  assert.equal(facts.get('system_access', 'EnableGuestAccount')?.value, '0');
});

test('AppLocker: judged by the Exe collection EnforcementMode, never by the file name', () => {
  assert.equal(
    read(appLockerPolicy('Enabled'), 'applocker-audit.xml').facts.get('app_control', 'mode')?.value,
    'enforced',
  );
  assert.equal(
    read(appLockerPolicy('AuditOnly'), 'applocker-enforced.xml').facts.get('app_control', 'mode')?.value,
    'audit',
  );
  assert.equal(
    read(appLockerPolicy('NotConfigured')).facts.get('app_control', 'mode')?.value,
    'not_configured',
  );
});

test('WDAC: audit when the policy has option "Enabled:Audit Mode", else enforced; the brief list is monitored only', () => {
  assert.equal(read(wdacPolicy(true)).facts.get('app_control', 'mode')?.value, 'audit');
  assert.equal(read(wdacPolicy(false)).facts.get('app_control', 'mode')?.value, 'enforced');
  const brief =
    '<ApplicationControl><AllowedProcesses><Process name="nginx" path="/usr/sbin/nginx"/></AllowedProcesses></ApplicationControl>';
  assert.equal(read(brief).facts.get('app_control', 'mode')?.value, 'monitored');
});

test('Get-HotFix table, systeminfo, ExSetup version, Confirm-SecureBootUEFI and msinfo32 text', () => {
  const hf = read(hotfixTable('EX01', ['3/14/2023 12:00:00 AM', '11/2/2026 12:00:00 AM', '7/1/2024']));
  assert.equal(hf.kind, 'hotfix');
  assert.equal(hf.facts.get('hotfix_newest', 'InstalledOn')?.value, '2026-11-02');
  assert.equal(hf.facts.hostName, 'EX01');
  const si = read(systeminfo('FS01', '3/4/2021'));
  assert.equal(si.kind, 'systeminfo');
  assert.equal(si.facts.hostName, 'FS01');
  assert.equal(si.facts.get('bios_date', 'release')?.value, '2021-03-04');
  const ex = read(exsetupText('15.01.2106.002'));
  assert.equal(ex.kind, 'exchange-version');
  assert.equal(ex.facts.get('exchange_build', 'ExSetup')?.value, '15.1.2106.2');
  const adv = read('\r\nName                : EX02\r\nAdminDisplayVersion : Version 15.2 (Build 792.3)\r\n');
  assert.equal(adv.facts.read({ method: 'exchange_build', arg: 'ExSetup' })?.cuOnly, true);
  assert.equal(adv.facts.hostName, 'EX02');
  assert.equal(read('True\r\n').facts.get('secure_boot', 'state')?.value, true);
  assert.equal(
    read('PS C:\\> Confirm-SecureBootUEFI\r\nFalse\r\n').facts.get('secure_boot', 'state')?.value,
    false,
  );
  const legacy = 'Confirm-SecureBootUEFI : Cmdlet not supported on this platform: 0xC0000002\r\n';
  assert.equal(read(legacy).facts.get('secure_boot', 'state')?.value, false);
  const mi = read(msinfoReport('LAPTOP7', 'On', '5/10/2019'));
  assert.equal(mi.kind, 'msinfo');
  assert.equal(mi.facts.get('secure_boot', 'state')?.value, true);
  assert.equal(mi.facts.get('bios_date', 'release')?.value, '2019-05-10');
  assert.equal(mi.facts.hostName, 'LAPTOP7');
});

test('msinfo32 /nfo (XML, UTF-16LE, CDATA), Win32_BIOS and Confirm-SecureBootUEFI as CLIXML', () => {
  const nfo = utf16leBom(
    '<?xml version="1.0"?>\r\n<MsInfo><Metadata><Version>8.0</Version></Metadata><Category name="System Summary">' +
      '<Data><Item><![CDATA[System Name]]></Item><Value><![CDATA[DESK-12]]></Value></Data>' +
      '<Data><Item><![CDATA[BIOS Version/Date]]></Item><Value><![CDATA[Dell Inc. 1.4.2, 8/9/2018]]></Value></Data>' +
      '<Data><Item><![CDATA[Secure Boot State]]></Item><Value><![CDATA[Off]]></Value></Data>' +
      '</Category></MsInfo>\r\n',
  );
  const m = read(nfo);
  assert.equal(m.kind, 'msinfo');
  assert.equal(m.facts.hostName, 'DESK-12');
  assert.equal(m.facts.get('secure_boot', 'state')?.value, false);
  assert.equal(m.facts.get('bios_date', 'release')?.value, '2018-08-09');
  const clix = (body: string): string =>
    `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">${body}</Objs>`;
  assert.equal(read(clix('<B>true</B>')).facts.get('secure_boot', 'state')?.value, true);
  const bios = clix(
    '<Obj RefId="0"><TN RefId="0"><T>System.Management.ManagementObject#root\\cimv2\\Win32_BIOS</T></TN>' +
      '<Props><S N="SMBIOSBIOSVersion">2.5.0</S><S N="ReleaseDate">20190510000000.000000+000</S></Props></Obj>',
  );
  assert.equal(read(bios).facts.get('bios_date', 'release')?.value, '2019-05-10');
});

test('detection is by content: an INF named .xml, a CSV named .txt', () => {
  const dir = tempDir('names');
  const inf = write(dir, 'report.xml', secEditInf({ privileges: { SeDebugPrivilege: '' } }));
  const csv = write(dir, 'notes.txt', auditpolGetFrench());
  assert.equal(detectKind(readInput(inf)), 'security-template');
  assert.equal(detectKind(readInput(csv)), 'audit-csv');
  assert.equal(detectKind('just some notes about ExSetup.exe\n'), undefined);
});

test('hostile XML: a DTD, deep nesting and broken XML are issues, not crashes', () => {
  const dtd = read('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><AppLockerPolicy/>', 'dtd.xml');
  assert.match(dtd.issue!, /AUDIT_XML_DTD dtd\.xml/);
  const deep = `<GPO>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</GPO>`;
  assert.match(read(deep, 'deep.xml').issue!, /AUDIT_XML_TOO_DEEP/);
  assert.match(read('<GPO><Name>x</GPO>', 'broken.xml').issue!, /AUDIT_BAD_XML broken\.xml:1/);
});

test('an input larger than the bound is refused with its name', () => {
  const dir = tempDir('big');
  const big = write(dir, 'huge.inf', Buffer.alloc(17 * 1024 * 1024, 0x41));
  assert.throws(() => readInput(big), /AUDIT_TOO_LARGE|larger than/);
});

test(
  'real GPO backup (test input only): GptTmpl.inf, both gpreport.xml, both audit.csv',
  { skip: skipUnlessCorpora() },
  () => {
    const inf = new WindowsFacts();
    const r1 = readWindowsExport(readInput(join(GPO, 'WS2022-MemberServer_GptTmpl.inf')), 'GptTmpl.inf', inf);
    assert.equal('kind' in r1 && r1.kind, 'security-template');
    assert.deepEqual(inf.get('privilege', 'SeDebugPrivilege')?.value, ['S-1-5-32-544']);
    assert.deepEqual(inf.get('privilege', 'SeLoadDriverPrivilege')?.value, ['S-1-5-32-544']);
    assert.equal(
      inf.get('registry', 'MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\SCENoApplyLegacyAuditPolicy')
        ?.value,
      '1',
    );
    assert.equal(inf.issues.length, 0);
    assert.ok(inf.size > 80, `read ${inf.size} values`);

    const rep = new WindowsFacts();
    readWindowsExport(readInput(join(GPO, 'WS2022-MemberServer_gpreport.xml')), 'gpreport.xml', rep);
    assert.deepEqual(rep.get('privilege', 'SeDebugPrivilege')?.value, ['S-1-5-32-544']);
    assert.equal(
      rep.get('registry', 'MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\SCENoApplyLegacyAuditPolicy')
        ?.value,
      '1',
    );
    // The report and the INF of the same GPO agree on every user right.
    for (const right of ['SeDebugPrivilege', 'SeLoadDriverPrivilege', 'SeTcbPrivilege', 'SeBackupPrivilege'])
      assert.deepEqual(rep.get('privilege', right)?.value, inf.get('privilege', right)?.value, right);

    const aud = new WindowsFacts();
    readWindowsExport(
      readInput(join(GPO, 'WS2022-MemberServerAudit_gpreport.xml')),
      'audit-gpreport.xml',
      aud,
    );
    assert.equal(auditOf(aud, PC), 'success');
    assert.equal(
      aud.get('admin_template', 'Include command line in process creation events')?.value,
      'Enabled',
    );

    for (const f of ['WS2022-MemberServerAudit_audit.csv', 'Win11-Audit_audit.csv']) {
      const csv = new WindowsFacts();
      const r = readWindowsExport(readInput(join(GPO, f)), f, csv);
      assert.equal('kind' in r && r.kind, 'audit-csv', f);
      assert.equal(auditOf(csv, PC), 'success', f);
      assert.equal(auditOf(csv, SSE), 'success_and_failure', f);
      assert.equal(auditOf(csv, DFS), 'failure', f);
      assert.equal(csv.issues.length, 0, f);
    }
    // The backup manifest is no posture export.
    assert.equal(detectKind(readInput(join(GPO, 'WS2022-MemberServer_Backup.xml'))), undefined);
  },
);

test(
  'real Exchange HealthChecker exports (CLIXML): ExSetup, Get-ExchangeServer, Get-HotFix',
  { skip: skipUnlessCorpora() },
  () => {
    const ex = new WindowsFacts();
    readWindowsExport(readInput(join(EXCHANGE, 'HealthChecker_E19_ExSetup.xml')), 'ExSetup.xml', ex);
    assert.equal(ex.get('exchange_build', 'ExSetup')?.value, '15.2.986.5');
    assert.notEqual(ex.read({ method: 'exchange_build', arg: 'ExSetup' })?.cuOnly, true);
    const srv = new WindowsFacts();
    readWindowsExport(
      readInput(join(EXCHANGE, 'HealthChecker_E19_GetExchangeServer.xml')),
      'GetExchangeServer.xml',
      srv,
    );
    assert.equal(srv.get('exchange_build', 'ExSetup')?.value, '15.2.986.5');
    assert.equal(srv.read({ method: 'exchange_build', arg: 'ExSetup' })?.cuOnly, true);
    assert.equal(srv.hostName, 'SOLO-E19A');
    const hf = new WindowsFacts();
    const r = readWindowsExport(
      readInput(join(EXCHANGE, 'HealthChecker_E19_GetHotFix.xml')),
      'GetHotFix.xml',
      hf,
    );
    assert.equal('values' in r && r.values, 2);
    assert.equal(hf.get('hotfix_newest', 'InstalledOn')?.value, '2020-02-27');
    const os = new WindowsFacts();
    readWindowsExport(readInput(join(EXCHANGE, 'HealthChecker_E19_Win32_OperatingSystem.xml')), 'os.xml', os);
    assert.equal(os.hostName, 'SOLO-E19A');
    assert.equal(readFileSync(join(EXCHANGE, 'SOURCES.txt'), 'utf8').includes('MIT'), true);
  },
);
