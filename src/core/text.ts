/**
 * The last component of a path written by any operating system: event logs
 * carry Windows paths (`C:\Temp\svc.exe`), procfs and ECS documents POSIX
 * ones, and a finding names the program the same way for both.
 */
export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i >= 0 ? path.slice(i + 1) : path;
}
