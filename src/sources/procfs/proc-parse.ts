/** Pure parsers for /proc text formats, so they can be tested with plain strings. */

export interface StatFields {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  utime: number;
  stime: number;
  numThreads: number;
  /** Clock ticks after boot. */
  startTicks: number;
  rssPages: number;
  /**
   * Where the kernel put the program image, its stack and its arguments
   * (fields 26-28 and 48-49: start/end of code, start of stack, start/end of
   * argv). They are set by exec and stay put until the next one, so a change
   * means the process ran another program (or rewrote its argv area with
   * prctl). Zeros when the reader may not ptrace the process; empty on
   * kernels older than 3.5.
   */
  execMark: string;
}

export const PF_KTHREAD = 0x00200000;

/** Bounds of the fields after the name (field 3 first), as `split(' ')` would cut them; reused, so parsing a stat line allocates little. */
const fieldStart = new Int32Array(64);
const fieldEnd = new Int32Array(64);

/** Cuts up to `max` fields of `text` from `from`; returns how many there are (counting stops at `max`). */
function cutFields(text: string, from: number, max: number): number {
  let n = 0;
  let pos = from;
  while (n < max) {
    const space = text.indexOf(' ', pos);
    fieldStart[n] = pos;
    if (space < 0) {
      fieldEnd[n++] = Math.max(pos, text.length);
      break;
    }
    fieldEnd[n++] = space;
    pos = space + 1;
  }
  return n;
}

/** Stat has 52 fields; parseStat reads up to field 49. */
const STAT_FIELDS_READ = 47;
/** Fewer fields than this after the name (up to rss, field 24) is no stat line. */
const STAT_FIELDS_NEEDED = 22;

/** /proc/PID/stat: the name is in parentheses and may itself contain spaces and parentheses. */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const n = cutFields(text, close + 2, STAT_FIELDS_READ);
  if (n < STAT_FIELDS_NEEDED) return undefined;
  // Field N is cut N - 3.
  const raw = (field: number): string =>
    field - 3 < n ? text.slice(fieldStart[field - 3]!, fieldEnd[field - 3]!) : '';
  const f = (field: number): number => Number(raw(field));
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: raw(3),
    ppid: f(4),
    flags: f(9),
    utime: f(14),
    stime: f(15),
    numThreads: f(20),
    startTicks: f(22),
    rssPages: f(24),
    execMark: `${raw(26)} ${raw(27)} ${raw(28)} ${raw(48)} ${raw(49)}`,
  };
}

/** utime + stime of a /proc/PID/stat line (what parseStat would give), for the samples of a window. */
export function parseStatTicks(text: string): number | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  if (cutFields(text, close + 2, STAT_FIELDS_NEEDED) < STAT_FIELDS_NEEDED) return undefined;
  return (
    Number(text.slice(fieldStart[11]!, fieldEnd[11]!)) + Number(text.slice(fieldStart[12]!, fieldEnd[12]!))
  );
}

/** /proc/PID/cmdline: NUL-separated arguments (a process may rewrite it into one space-joined string). */
export function parseCmdline(buf: Buffer): string[] {
  if (buf.length === 0) return [];
  const s = buf.toString('utf8');
  const parts = s.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

export function parseStatusUid(text: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Container id from a cgroup path: docker, containerd, CRI-O, podman and kubepods layouts. */
export function containerIdFromCgroup(cgroup: string): string | undefined {
  const m =
    /(?:docker|cri-containerd|crio|libpod|containerd)[-/]([0-9a-f]{64})/.exec(cgroup) ??
    /\/kubepods[^\n]*\/([0-9a-f]{64})/.exec(cgroup) ??
    /\/docker\/([0-9a-f]{64})/.exec(cgroup);
  return m?.[1];
}

/** The cgroup path of the unified hierarchy, or the first controller's when v1 only. */
export function parseCgroup(text: string): string | undefined {
  let first: string | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    const path = line.slice(j + 1);
    if (line.startsWith('0::')) return path;
    if (first === undefined && path !== '/') first = path;
  }
  return first ?? '/';
}

const TCP_STATES: Record<string, import('../../core/host-snapshot.ts').SocketState> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
};

function hexIpv4(h: string): string {
  // /proc prints the address as a host-order (little-endian) 32-bit hex number.
  const n = Number.parseInt(h, 16);
  return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${(n >>> 24) & 255}`;
}

function hexIpv6(h: string): string {
  // Four 32-bit words, each in host (little-endian) order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = h.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** One of /proc/net/{tcp,tcp6,udp,udp6}. Malformed lines are skipped. */
export function parseNetTable(
  text: string,
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
  netns: string,
): import('../../core/host-snapshot.ts').SocketInfo[] {
  const out: import('../../core/host-snapshot.ts').SocketInfo[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [lip, lport] = (cols[1] ?? '').split(':');
    const [rip, rport] = (cols[2] ?? '').split(':');
    if (!lip || !lport || !rip || !rport) continue;
    const conv = family === 4 ? hexIpv4 : hexIpv6;
    const st = cols[3] ?? '';
    out.push({
      protocol,
      family,
      localIp: conv(lip),
      localPort: Number.parseInt(lport, 16),
      remoteIp: conv(rip),
      remotePort: Number.parseInt(rport, 16),
      state: protocol === 'tcp' ? (TCP_STATES[st] ?? 'UNKNOWN') : st === '01' ? 'ESTABLISHED' : 'CLOSE',
      uid: Number(cols[7]),
      inode: cols[9] ?? '0',
      netns,
    });
  }
  return out;
}

/** /etc/passwd → uid → name. */
export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts.length >= 3 && parts[0] && /^\d+$/.test(parts[2] ?? '')) m.set(Number(parts[2]), parts[0]);
  }
  return m;
}
