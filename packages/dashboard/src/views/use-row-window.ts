import { type RefObject, useCallback, useLayoutEffect, useState } from 'react';

/** The rows of a long table worth drawing now: those in view and `overscan` more on each side. */
export interface RowWindow {
  /** The first row drawn (0-based) and one past the last. */
  first: number;
  last: number;
  /** A drawn row's height in pixels, as measured (an estimate until a row is drawn). */
  rowHeight: number;
  /** How many rows the scroller shows at once (Page Down moves that many). */
  visibleRows: number;
  onScroll(): void;
  /** Scrolls just enough for row `index` to be in view (it is then drawn). */
  reveal(index: number): void;
}

// What a row measures with the stylesheet's fixed row height, until one is drawn and measured.
const estimatedRowHeight = 37;
const overscan = 10;

/**
 * Which of `count` rows to draw inside the scrolling element `scroller`, whose
 * table has a header row and then one row each. Rows all have the height the
 * stylesheet gives them, so a row's place is its index times that height.
 */
export function useRowWindow(scroller: RefObject<HTMLElement | null>, count: number): RowWindow {
  // Before the scroller is laid out, the height the stylesheet gives a full one (100vh - 120px) is the best
  // guess of what shows: when it is right, measuring draws nothing again.
  const [box, setBox] = useState({ top: 0, height: typeof window === 'undefined' ? 680 : Math.max(240, window.innerHeight - 120) });
  const [rowHeight, setRowHeight] = useState(estimatedRowHeight);
  const [headerHeight, setHeaderHeight] = useState(estimatedRowHeight);

  const measure = useCallback(() => {
    const element = scroller.current;
    if (!element) return;
    setBox((current) =>
      current.top === element.scrollTop && current.height === element.clientHeight ? current : { top: element.scrollTop, height: element.clientHeight },
    );
  }, [scroller]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [scroller, measure]);

  // Measured once rows are drawn (not at every render: each read of a height makes the page lay itself out
  // then and there): the stylesheet's height, whatever the font makes of it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: rows appearing is what there is to measure; the heights are read, not depended on
  useLayoutEffect(() => {
    const element = scroller.current;
    const row = element?.querySelector<HTMLElement>('tbody tr[aria-rowindex]');
    const header = element?.querySelector<HTMLElement>('thead tr');
    if (row && row.offsetHeight > 0 && row.offsetHeight !== rowHeight) setRowHeight(row.offsetHeight);
    if (header && header.offsetHeight > 0 && header.offsetHeight !== headerHeight) setHeaderHeight(header.offsetHeight);
  }, [count > 0]);

  const visibleRows = Math.max(1, Math.ceil(Math.max(0, box.height - headerHeight) / rowHeight));
  const topRow = Math.floor(Math.max(0, box.top) / rowHeight);
  const first = Math.max(0, Math.min(count, topRow - overscan));
  const last = Math.min(count, topRow + visibleRows + overscan);

  const reveal = useCallback(
    (index: number) => {
      const element = scroller.current;
      if (!element) return;
      const rowTop = index * rowHeight;
      const shown = element.clientHeight - headerHeight;
      if (rowTop < element.scrollTop) element.scrollTop = rowTop;
      else if (rowTop + rowHeight > element.scrollTop + shown) element.scrollTop = rowTop + rowHeight - shown;
      measure();
    },
    [scroller, rowHeight, headerHeight, measure],
  );

  return { first, last, rowHeight, visibleRows, onScroll: measure, reveal };
}
