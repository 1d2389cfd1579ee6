import { parseConfig, type CronConfig } from '../triggers/trigger-config';
import { dueFires } from './scheduler';

const every2s = (missedRuns: string, extra: Record<string, unknown> = {}) => parseConfig('CRON', { expression: '*/2 * * * * *', missedRuns, ...extra }) as CronConfig;
const at = (s: string) => new Date(`2026-12-04T10:00:${s}.000Z`);

describe('dueFires: what a schedule fires between two looks at it', () => {
  it('fires the times at most grace late as they are', () => {
    expect(dueFires(every2s('SKIP'), at('00'), new Date('2026-12-04T10:00:02.500Z'), 1000).fires).toEqual([{ at: at('02'), missed: 0 }]);
    const { fires, last } = dueFires(every2s('FIRE_ONCE'), at('00'), at('01'), 1000);
    expect(fires).toEqual([]);
    expect(last).toBeNull();
  });

  it('comes to nothing (SKIP), one fire (FIRE_ONCE) or one each up to the limit (CATCH_UP) for the times missed', () => {
    // Down from :00 to :09.5: :02 :04 :06 :08 were missed (over 1 s late); nothing is on time.
    const now = new Date('2026-12-04T10:00:09.500Z');
    expect(dueFires(every2s('SKIP'), at('00'), now, 1000)).toEqual({ fires: [], last: at('08') });
    expect(dueFires(every2s('FIRE_ONCE'), at('00'), now, 1000).fires).toEqual([{ at: at('08'), missed: 4 }]);
    expect(dueFires(every2s('CATCH_UP', { catchUpLimit: 2 }), at('00'), now, 1000).fires).toEqual([
      { at: at('06'), missed: 4 },
      { at: at('08'), missed: 4 },
    ]);
    // :10 just passed is on time and fires besides.
    const later = new Date('2026-12-04T10:00:10.300Z');
    expect(dueFires(every2s('FIRE_ONCE'), at('00'), later, 1000).fires).toEqual([
      { at: at('08'), missed: 4 },
      { at: at('10'), missed: 0 },
    ]);
  });

  it('keeps the time zone of the trigger', () => {
    const daily = parseConfig('CRON', { expression: '0 0 9 * * *', timezone: 'Asia/Tokyo' }) as CronConfig; // 09:00 JST = 00:00 UTC
    const { fires } = dueFires(daily, new Date('2026-12-03T23:59:00Z'), new Date('2026-12-04T00:00:00.500Z'), 1000);
    expect(fires).toEqual([{ at: new Date('2026-12-04T00:00:00Z'), missed: 0 }]);
  });
});
