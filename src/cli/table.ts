import Table from 'cli-table3';

/** A cli-table3 table that is coloured on a terminal and plain text everywhere else. */
export function newTable(options: ConstructorParameters<typeof Table>[0] = {}): InstanceType<typeof Table> {
  const color = process.stdout.isTTY === true;
  return new Table({
    ...options,
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [], ...options.style },
  });
}
