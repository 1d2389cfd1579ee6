import type { MessageBus } from '@pipewright/messaging';
import type { DataSource } from 'typeorm';
import { BuildLogWriter } from './build-log';

describe('build log masking', () => {
  const writer = () => new BuildLogWriter({} as DataSource, {} as MessageBus, '00000000-0000-4000-8000-000000000000', 0, { chunkLines: 1000, maxLine: 100 });

  it('masks each registered secret, also URL- and base64-encoded', () => {
    const log = writer();
    log.secret('s3cr3t/pass');
    expect(log.mask('user:s3cr3t/pass and s3cr3t%2Fpass and czNjcjN0L3Bhc3M=')).toBe('user:**** and **** and ****');
  });

  it('masks the form-encoded form (a Jenkins POST body) and each line of a value of several lines', () => {
    const log = writer();
    log.secret('two words & more');
    expect(log.mask('KEY=two+words+%26+more')).toBe('KEY=****');
    log.secret('-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nxyz\n-----END KEY-----');
    expect(log.mask('line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).toBe('line: ****');
    expect(log.mask('xyz stays')).toBe('xyz stays'); // a line too short to tell from ordinary text
  });

  it('ignores secrets too short to mask safely', () => {
    const log = writer();
    log.secret('ab');
    log.secret(null);
    expect(log.mask('ab cd')).toBe('ab cd');
  });
});
