import { basename } from '../../../core/text.ts';
import { hostLists } from '../lists.ts';
import type { AnalyticOutput, HostAnalytic } from '../types.ts';
import { processSignal, userProcesses } from '../types.ts';

const TEMP_DIR_RE = /^\/(?:tmp|var\/tmp|dev\/shm)\//;
const HIDDEN_DIR_RE = /\/\.[^/]+\//;
// Dot-directories of well-known per-user toolchains; executables there are normal on developer machines.
const TOOLCHAIN_DOTDIRS =
  /\/\.(?:nvm|cargo|rustup|pyenv|rbenv|local|vscode-server|cache\/ms-playwright|npm|deno|bun|sdkman|asdf|volta)\//;

/**
 * Process masquerading: borrowed kernel-thread or Windows names, a `comm`
 * that disagrees with the executable, deleted executables, executables in
 * temporary or hidden directories, executables no package owns.
 */
export const masquerade: HostAnalytic = {
  id: 'masquerade',
  description:
    'Kernel-thread and Windows names on user processes, name/executable mismatch, deleted or temp-dir executables',
  analyze(snapshot) {
    const lists = hostLists();
    const out: AnalyticOutput[] = [];
    for (const p of userProcesses(snapshot)) {
      const argv0 = p.argv[0] ?? '';
      const shown = argv0.replace(/^\[|\]$/g, '');
      const names = [p.name, basename(shown)];
      const kernelThreadName = names.find((n) => lists.kernelThreadRes.some((re) => re.test(n)));
      if (kernelThreadName) {
        out.push(
          processSignal(p.pid, {
            id: 'masquerade.kernel_thread_name',
            category: 'masquerade',
            weight: 4,
            techniques: ['T1036.004', 'T1036.005'],
            text: `calls itself "${kernelThreadName}", a kernel-thread name, but is a user-space process${p.exe ? ` running ${p.exe}` : ''}`,
            evidence: { comm: p.name, argv0, exe: p.exe },
          }),
        );
      }
      const windowsName = names.find((n) => lists.windowsNames.has(n.toLowerCase()));
      if (windowsName) {
        out.push(
          processSignal(p.pid, {
            id: 'masquerade.windows_name',
            category: 'masquerade',
            weight: 3,
            techniques: ['T1036.005'],
            text: `uses the Windows system process name "${windowsName}" on Linux`,
            evidence: { comm: p.name, exe: p.exe },
          }),
        );
      }
      if (p.exe) {
        const exeBase = basename(p.exe).slice(0, 15);
        const argBases = p.argv.slice(0, 3).map((a) => basename(a).slice(0, 15));
        // Scripts run through an interpreter show the script's name; threads and
        // daemons may retitle themselves with a "(name)" or "name: role" form.
        const consistent =
          p.name === exeBase ||
          argBases.includes(p.name) ||
          p.name.startsWith('(') ||
          exeBase.startsWith(p.name) ||
          p.name.startsWith(exeBase.slice(0, 4)) ||
          shown.startsWith(p.name);
        if (!consistent && !kernelThreadName && !windowsName) {
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.name_mismatch',
              category: 'masquerade',
              weight: 1,
              techniques: ['T1036'],
              text: `its name "${p.name}" does not match its executable ${p.exe}`,
              evidence: { comm: p.name, exe: p.exe, argv0 },
            }),
          );
        }
        if (p.exe.startsWith('/memfd:')) {
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.memfd_executable',
              category: 'masquerade',
              weight: 3,
              techniques: ['T1620'],
              text: `runs from an in-memory file (${p.exe}): fileless execution`,
              evidence: { exe: p.exe, sha256: p.sha256 },
            }),
          );
        } else if (p.exeDeleted) {
          const packagedPlace = /^\/(?:usr|bin|sbin|lib|opt)\//.test(p.exe);
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.deleted_executable',
              category: 'masquerade',
              weight: packagedPlace ? 1 : 3,
              techniques: ['T1070.004'],
              text: packagedPlace
                ? `its executable ${p.exe} was deleted (often just a package upgrade; restart the service)`
                : `runs from a deleted executable ${p.exe}, a common way to hide a dropped binary`,
              evidence: { exe: p.exe, sha256: p.sha256 },
            }),
          );
        }
        if (TEMP_DIR_RE.test(p.exe)) {
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.temp_dir_executable',
              category: 'masquerade',
              weight: 3,
              techniques: ['T1036.005'],
              text: `runs from the world-writable directory ${p.exe.slice(0, p.exe.lastIndexOf('/') + 1)}`,
              evidence: { exe: p.exe },
            }),
          );
        } else if (HIDDEN_DIR_RE.test(p.exe) && !TOOLCHAIN_DOTDIRS.test(p.exe)) {
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.hidden_dir_executable',
              category: 'masquerade',
              weight: 2,
              techniques: ['T1564.001'],
              text: `runs from a hidden directory (${p.exe})`,
              evidence: { exe: p.exe },
            }),
          );
        }
        if (p.packaged === false && !p.exeDeleted) {
          out.push(
            processSignal(p.pid, {
              id: 'masquerade.unpackaged_executable',
              category: 'masquerade',
              weight: 0.5,
              techniques: [],
              text: 'no installed package owns its executable',
              evidence: { exe: p.exe, sha256: p.sha256 },
            }),
          );
        }
      }
    }
    return out;
  },
};
