import type { ReactNode } from 'react';

export type Order = 'asc' | 'desc';

/** A column header that sorts on the server: a button inside the th, with aria-sort on the th. */
export function SortHeader({
  field,
  sort,
  order,
  onSort,
  children,
  defaultOrder = 'desc',
}: {
  field: string;
  sort: string | undefined;
  order: Order;
  onSort: (field: string, order: Order) => void;
  children: ReactNode;
  defaultOrder?: Order;
}) {
  const active = sort === field;
  const nextOrder: Order = active ? (order === 'asc' ? 'desc' : 'asc') : defaultOrder;
  return (
    <th scope="col" aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort" onClick={() => onSort(field, nextOrder)}>
        {children}
        <span aria-hidden="true" className="sort-mark">
          {active ? (order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
        </span>
      </button>
    </th>
  );
}
