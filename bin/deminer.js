#!/usr/bin/env node
// Entry point of the `deminer` command: registers the TypeScript loader that
// ships as a runtime dependency, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
