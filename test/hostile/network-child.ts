// Runs one hunt over the capture given on the command line and prints what the parent checks:
// in its own process, so that its peak memory is its own.
import { hunt } from '../../src/pipeline/hunt.ts';

const r = await hunt({ paths: [process.argv[2]!], threads: 1, minLevel: 'high' });
process.stdout.write(
  `${JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), stats: r.stats, findings: r.findings.length })}\n`,
);
