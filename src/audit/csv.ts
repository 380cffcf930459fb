/** Fields of one CSV line (RFC 4180 quotes, `""` inside quotes); plain scanning, no regex. */
export function splitCsvLine(line: string, max = 64): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
      if (out.length >= max) return out;
    } else cur += c;
  }
  out.push(cur);
  return out;
}
