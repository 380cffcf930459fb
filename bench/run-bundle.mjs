// Runs the built bundle (dist/deminer.mjs) whatever the age of the sources,
// so that benches measure what users run: `node bench/run-bundle.mjs ARGS…`.
import { main } from '../dist/deminer.mjs';

process.exitCode = await main(process.argv);
