import { ConsoleLines } from './jenkins-console';

describe('ConsoleLines', () => {
  it('yields whole lines only and carries an unfinished one to the next answer', () => {
    const c = new ConsoleLines();
    expect(c.push(Buffer.from('one\ntw'), '6')).toEqual(['one']);
    expect(c.state()).toEqual({ consoleOffset: 6, consolePending: Buffer.from('tw').toString('base64') });
    expect(c.push(Buffer.from('o\r\nthree\n'), '14')).toEqual(['two', 'three']);
    expect(c.state()).toEqual({ consoleOffset: 14, consolePending: undefined });
    expect(c.push(Buffer.alloc(0), '14')).toEqual([]);
  });

  it('takes the next offset from X-Text-Size, not from the body length (Jenkins strips console notes)', () => {
    const c = new ConsoleLines();
    c.push(Buffer.from('a\n'), '120');
    expect(c.offset).toBe(120);
    c.push(Buffer.from('b\n'), null);
    expect(c.offset).toBe(122);
  });

  it('keeps a UTF-8 character split between two answers intact', () => {
    const bytes = Buffer.from('grüße\n');
    const c = new ConsoleLines();
    expect(c.push(bytes.subarray(0, 3), '3')).toEqual([]);
    expect(c.push(bytes.subarray(3), String(bytes.length))).toEqual(['grüße']);
  });

  it('resumes from a saved state and flushes a last line without a newline', () => {
    const first = new ConsoleLines();
    first.push(Buffer.from('x\npart'), '6');
    const resumed = new ConsoleLines(first.state());
    expect(resumed.offset).toBe(6);
    expect(resumed.push(Buffer.from('ial'), '9')).toEqual([]);
    expect(resumed.flush()).toEqual(['partial']);
    expect(resumed.flush()).toEqual([]);
  });

  it('leaves the unfinished line out of the saved state when asked (a build with secrets)', () => {
    const c = new ConsoleLines();
    c.push(Buffer.from('x\ntoken=s3cr'), '11');
    expect(c.state(false)).toEqual({ consoleOffset: 11, consolePending: undefined });
    expect(c.state()).toEqual({ consoleOffset: 11, consolePending: Buffer.from('token=s3cr').toString('base64') });
  });

  it('keeps empty lines', () => {
    expect(new ConsoleLines().push(Buffer.from('a\n\nb\n'), '5')).toEqual(['a', '', 'b']);
  });
});
