/** Times: the viewer's own zone on screen, UTC in the title (hover). */

const pad = (n: number): string => String(n).padStart(2, '0');

/** 2026-01-31 14:05:09 in the viewer's zone: compact, unambiguous, sorts as text. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function utcTitle(ms: number): string {
  return `${new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} UTC`;
}

/** "3 min ago" style, for freshness at a glance (the exact time is beside or in the title). */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/**
 * CPU as agents send it (cores in use: 1.5 is one and a half cores) shown
 * the way top shows it, in percent of one core (150 %).
 */
export function cpuPercent(cores: number): string {
  const p = cores * 100;
  return `${p >= 10 ? Math.round(p) : p.toFixed(1)} %`;
}

export function count(n: number): string {
  return n.toLocaleString();
}

/**
 * The ATT&CK page of a technique id: T1496 → /techniques/T1496/,
 * T1059.001 → /techniques/T1059/001/. Anything not shaped like an id gets no link.
 */
export function attackUrl(id: string): string | undefined {
  const m = /^(T\d{4})(?:\.(\d{3}))?$/.exec(id);
  if (!m) return undefined;
  return `https://attack.mitre.org/techniques/${m[1]}/${m[2] === undefined ? '' : `${m[2]}/`}`;
}
