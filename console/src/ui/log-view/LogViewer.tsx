import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import { memo, useCallback, useDeferredValue, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type KeyboardEvent } from 'react';
import { ansiSegments, markSegments } from './ansi';
import type { LineStore } from './lineStore';
import { LogSearch, step, type Match } from './search';
import type { LogPhase } from './useBuildLog';
import './log-view.css';

/** Fixed row height (px): the CSS gives .log-row the same line-height. */
export const ROW_HEIGHT = 18;

export interface LogViewerProps {
  store: LineStore;
  state: LogPhase;
  /** Follow (keep the end in view) from the start: while the build runs. */
  defaultFollow: boolean;
  /** Name of the file "Download" saves. */
  fileName: string;
  /** Said after the status, e.g. that the connection is being re-established. */
  note?: string;
  label?: string;
}

const STATUS_TEXT: Record<LogPhase['phase'], string> = { connecting: 'connecting…', streaming: 'streaming…', complete: 'complete', error: '' };

/**
 * A log of any length: rows virtualized at a fixed height, ANSI colours, line numbers, search
 * with highlighted matches, follow mode and a download of what arrived so far.
 */
export function LogViewer({ store, state, defaultFollow, fileName, note, label = 'Build log' }: LogViewerProps) {
  const length = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(defaultFollow);
  // Following, the rows drawn are the last ones in the same render that grows the log (the
  // virtualizer would only move its range on the scroll event a frame later: a blank flash).
  const rangeExtractor = useCallback(
    (range: Range) => {
      if (!follow || !range.count) return defaultRangeExtractor(range);
      const visible = Math.ceil((scrollRef.current?.clientHeight ?? 0) / ROW_HEIGHT) + 1;
      const start = Math.max(0, range.count - visible - range.overscan);
      return Array.from({ length: range.count - start }, (_, i) => start + i);
    },
    [follow],
  );
  const virtualizer = useVirtualizer({
    count: length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
    rangeExtractor,
  });

  // Search: matches of the (deferred) query, updated as lines arrive.
  const searchId = useId();
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query.trim());
  const search = useMemo(() => new LogSearch(deferredQuery), [deferredQuery]);
  const matchCount = useMemo(() => {
    search.update(length, (i) => store.plainLine(i));
    return search.matches.length;
  }, [search, length, store]);
  // The match jumped to, for the search it belongs to: a new query starts at its first match at or
  // below the top of the view (so the counter never says "0 of 12" for a frame).
  const [picked, setPicked] = useState<{ search: LogSearch; index: number } | null>(null);
  // Recomputed when the query changes or its first matches arrive, not as more stream in.
  const hasMatches = matchCount > 0;
  const firstMatch = useMemo(() => {
    if (!hasMatches) return -1;
    const first = search.firstAtOrAfter(virtualizer.getVirtualItems()[0]?.index ?? 0);
    return first < search.matches.length ? first : 0;
  }, [search, hasMatches, virtualizer]);
  const current = picked?.search === search ? picked.index : firstMatch;
  const [jumpTick, setJumpTick] = useState(0);

  const jumpTo = useCallback(
    (index: number) => {
      const m: Match | undefined = search.matches[index];
      setPicked({ search, index });
      if (!m) return;
      setFollow(false);
      virtualizer.scrollToIndex(m.line, { align: 'center' });
      setJumpTick((t) => t + 1);
    },
    [search, virtualizer],
  );

  // A new query (or its first match arriving): show its first match.
  useEffect(() => {
    if (firstMatch >= 0 && picked?.search !== search) jumpTo(firstMatch);
  }, [firstMatch, search, picked, jumpTo]);

  // After a jump, bring the current match into view sideways too (long lines) once its row is drawn.
  useEffect(() => {
    if (!jumpTick) return;
    let frames = 0;
    let id = 0;
    const reveal = () => {
      const box = scrollRef.current;
      const mark = box?.querySelector<HTMLElement>('.log-match-current');
      if (box && mark) {
        const m = mark.getBoundingClientRect();
        const b = box.getBoundingClientRect();
        const gutter = box.querySelector('.log-lineno')?.getBoundingClientRect().width ?? 0;
        // Off to a side (a long line): centre it, clear of the sticky line numbers.
        if (m.left < b.left + gutter || m.right > b.right) box.scrollLeft += m.left + m.width / 2 - (b.left + gutter + (b.width - gutter) / 2);
      } else if (frames++ < 5) id = requestAnimationFrame(reveal);
    };
    id = requestAnimationFrame(reveal);
    return () => cancelAnimationFrame(id);
  }, [jumpTick]);

  // Follow: keep the last line in view as lines arrive (rows are fixed, so the height is known now).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, length]);

  const lastTop = useRef(0);
  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= ROW_HEIGHT;
    if (follow && el.scrollTop < lastTop.current - 1 && !atBottom) setFollow(false);
    // Scrolling back down to the end of a log still being written follows it again.
    else if (!follow && el.scrollTop > lastTop.current && atBottom && state.phase !== 'complete' && el.scrollHeight > el.clientHeight) setFollow(true);
    lastTop.current = el.scrollTop;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'End') {
      e.preventDefault();
      setFollow(true);
      const el = scrollRef.current;
      if (el) el.scrollTop = el.scrollHeight;
    } else if (e.key === 'ArrowUp' || e.key === 'PageUp' || e.key === 'Home') setFollow(false);
  };

  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      jumpTo(step(current, matchCount, e.shiftKey ? -1 : 1));
    } else if (e.key === 'Escape' && query) {
      e.preventDefault();
      setQuery('');
    }
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([store.text()], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const gutter = `${Math.max(3, String(length).length) + 1}ch`;
  const statusText = state.phase === 'error' ? state.message : STATUS_TEXT[state.phase];
  const items = virtualizer.getVirtualItems();

  return (
    <section className="log-view" aria-label={`${label} viewer`}>
      <div className="log-toolbar">
        <input id={searchId} type="search" aria-label="Search log" placeholder="Search log" value={query} onChange={(e) => setQuery(e.target.value)} onKeyDown={onSearchKey} />
        <button type="button" aria-label="Previous match" onClick={() => jumpTo(step(current, matchCount, -1))} disabled={!matchCount}>
          ↑ Previous
        </button>
        <button type="button" aria-label="Next match" onClick={() => jumpTo(step(current, matchCount, 1))} disabled={!matchCount}>
          Next ↓
        </button>
        <span className="log-counter muted" aria-live="polite">
          {deferredQuery ? search.counter(current) : ''}
        </span>
        <span className="log-spacer" />
        <button type="button" aria-pressed={follow} className={follow ? 'log-follow on' : 'log-follow'} onClick={() => setFollow((f) => !f)} title="Keep the end of the log in view (End)">
          Follow
        </button>
        <button type="button" onClick={download} disabled={!length}>
          Download
        </button>
      </div>
      <div
        ref={scrollRef}
        className="log-scroll"
        role="log"
        aria-label={label}
        aria-live="off"
        tabIndex={0}
        onScroll={onScroll}
        onWheel={(e) => e.deltaY < 0 && follow && setFollow(false)}
        onKeyDown={onKeyDown}
        style={{ ['--log-gutter' as string]: gutter }}
      >
        {length === 0 ? (
          <div className="log-empty muted">{state.phase === 'complete' ? 'The log is empty.' : state.phase === 'error' ? 'No log lines.' : 'Waiting for the log…'}</div>
        ) : (
          <div className="log-sizer" style={{ height: virtualizer.getTotalSize(), width: `calc(var(--log-gutter) + ${store.width + 4}ch)` }}>
            {items.map((v) => (
              <LogRow key={v.index} index={v.index} top={v.start} text={store.line(v.index)} search={search} matchCount={matchCount} current={search.matches[current]?.line === v.index ? current : -1} />
            ))}
          </div>
        )}
      </div>
      <div className="log-statusbar">
        <span role="status" className={`log-status log-status-${state.phase}`}>
          {statusText}
        </span>
        {note && <span className="log-note">{note}</span>}
        <span className="muted">
          {length.toLocaleString('en')} {length === 1 ? 'line' : 'lines'}
        </span>
      </div>
    </section>
  );
}

interface RowProps {
  index: number;
  top: number;
  text: string;
  search: LogSearch;
  /** Changes when matches were added (the search object is the same). */
  matchCount: number;
  /** The current match's index when it is on this line, else -1. */
  current: number;
}

const LogRow = memo(function LogRow({ index, top, text, search, current }: RowProps) {
  const segments = ansiSegments(text);
  const { first, matches } = search.matches.length ? search.onLine(index) : { first: 0, matches: [] };
  const pieces = matches.length ? markSegments(segments, matches.map((m, i) => ({ start: m.start, end: m.end, current: first + i === current }))) : segments;
  return (
    <div className="log-row" style={{ transform: `translateY(${top}px)` }}>
      <span className="log-lineno" aria-hidden="true">
        {index + 1}
      </span>
      <span className="log-line">
        {pieces.map((p, i) => {
          const mark = 'mark' in p ? p.mark : undefined;
          if (mark)
            return (
              <mark key={i} className={`${mark === 'current' ? 'log-match log-match-current' : 'log-match'}${p.className ? ` ${p.className}` : ''}`} style={p.style}>
                {p.text}
              </mark>
            );
          return p.className || p.style ? (
            <span key={i} className={p.className} style={p.style}>
              {p.text}
            </span>
          ) : (
            p.text
          );
        })}
      </span>
    </div>
  );
});
