import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, LineStore, type FrameScheduler } from './lineStore';

/** A frame scheduler the test runs by hand. */
function manualFrames() {
  const queue: (() => void)[] = [];
  const schedule: FrameScheduler = (cb) => {
    queue.push(cb);
    return () => {
      const i = queue.indexOf(cb);
      if (i >= 0) queue.splice(i, 1);
    };
  };
  return {
    schedule,
    pending: () => queue.length,
    run: () => queue.splice(0, queue.length).forEach((cb) => cb()),
  };
}

describe('LineStore', () => {
  it('publishes appended lines once per frame, telling listeners once', () => {
    const frames = manualFrames();
    const store = new LineStore(frames.schedule);
    let told = 0;
    store.subscribe(() => told++);
    store.append(['a', 'b']);
    store.append(['c']);
    store.append([]);
    expect(store.length).toBe(0); // not before the frame
    expect(store.receivedLength).toBe(3);
    expect(frames.pending()).toBe(1); // one frame for three appends
    frames.run();
    expect(store.length).toBe(3);
    expect(told).toBe(1);
    expect([0, 1, 2].map((i) => store.line(i))).toEqual(['a', 'b', 'c']);
    frames.run();
    expect(told).toBe(1);
  });

  it('flush publishes at once and cancels the frame', () => {
    const frames = manualFrames();
    const store = new LineStore(frames.schedule);
    let told = 0;
    store.subscribe(() => told++);
    store.append(['x']);
    store.flush();
    expect(store.length).toBe(1);
    expect(frames.pending()).toBe(0);
    expect(told).toBe(1);
    store.flush();
    expect(told).toBe(1);
  });

  it('keeps the plain text of coloured lines and the raw line', () => {
    const frames = manualFrames();
    const store = new LineStore(frames.schedule);
    store.append(['\u001b[31mred\u001b[0m text', 'progress 10%\rprogress 100%']);
    store.flush();
    expect(store.line(0)).toBe('\u001b[31mred\u001b[0m text');
    expect(store.plainLine(0)).toBe('red text');
    expect(store.line(1)).toBe('progress 100%');
    expect(store.text()).toBe('red text\nprogress 100%\n');
  });

  it('stores 100,000 lines in chunks and reads any of them back', () => {
    const frames = manualFrames();
    const store = new LineStore(frames.schedule);
    for (let batch = 0; batch < 100; batch++) store.append(Array.from({ length: 1000 }, (_, i) => `line ${batch * 1000 + i}`));
    frames.run();
    expect(store.length).toBe(100_000);
    for (const i of [0, CHUNK_SIZE - 1, CHUNK_SIZE, 2 * CHUNK_SIZE + 7, 99_999]) expect(store.line(i)).toBe(`line ${i}`);
    expect(store.line(100_000)).toBe('');
    const text = store.text();
    expect(text.split('\n')).toHaveLength(100_001);
    expect(text.endsWith('line 99999\n')).toBe(true);
  });

  it('text() holds only what was published', () => {
    const frames = manualFrames();
    const store = new LineStore(frames.schedule);
    store.append(['a']);
    frames.run();
    store.append(['b']);
    expect(store.text()).toBe('a\n');
    expect(new LineStore(frames.schedule).text()).toBe('');
  });
});

describe('LineStore width', () => {
  it('knows the widest published line, tabs to the next stop of 8', async () => {
    const { columns } = await import('./lineStore');
    expect(columns('abc')).toBe(3);
    expect(columns('a\tb')).toBe(9);
    expect(columns('\t\t')).toBe(16);
    const store = new LineStore(() => () => undefined);
    store.append(['short', '\u001b[31m1234567890\u001b[0m']);
    expect(store.width).toBe(0);
    store.flush();
    expect(store.width).toBe(10);
  });
});
