/**
 * Sorting for the dashboard's tables: click a column header (a button, so the keyboard works too) to sort
 * by it, again to reverse. Missing values sort last in either direction: a missing value is never "the
 * biggest".
 */
import { useState } from 'react';

export type SortDirection = 'ascending' | 'descending';

export interface SortColumn<K extends string> {
  key: K;
  label: string;
  numeric: boolean;
}

export interface SortState<K extends string> {
  key: K;
  direction: SortDirection;
}

function missing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

export function sortRows<R, K extends string>(
  rows: readonly R[],
  valueOf: (row: R, key: K) => unknown,
  { key, direction }: SortState<K>,
): R[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const left = valueOf(a, key);
    const right = valueOf(b, key);
    if (missing(left) || missing(right)) return Number(missing(left)) - Number(missing(right));
    if (typeof left === 'number' && typeof right === 'number') return sign * (left - right);
    return sign * String(left).localeCompare(String(right), undefined, { numeric: true });
  });
}

export function useSort<K extends string>(
  initial: SortState<K>,
): { sort: SortState<K>; sortBy: (column: SortColumn<K>) => void } {
  const [sort, setSort] = useState(initial);
  const sortBy = (column: SortColumn<K>) =>
    setSort((current) =>
      current.key === column.key
        ? { key: column.key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' }
        : { key: column.key, direction: column.numeric ? 'descending' : 'ascending' },
    );
  return { sort, sortBy };
}

export function SortableHeader<K extends string>({
  column,
  sort,
  onSort,
}: {
  column: SortColumn<K>;
  sort: SortState<K>;
  onSort: (column: SortColumn<K>) => void;
}) {
  const active = column.key === sort.key;
  return (
    <th className={column.numeric ? 'num' : undefined} aria-sort={active ? sort.direction : 'none'} scope="col">
      <button type="button" onClick={() => onSort(column)}>
        {column.label}
        <span aria-hidden="true">{active ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );
}
