import { NO_SECRETS, secretNames, secretsFrom } from './secret-values';

describe('secret values', () => {
  it('finds the names ${secrets.NAME} references, each once', () => {
    expect(secretNames('a ${secrets.ONE} b ${ secrets.TWO } ${secrets.ONE}', undefined, '${parameters.x}')).toEqual(['ONE', 'TWO']);
  });

  it('fills them in (JSON-escaped inside a JSON string) and masks every form of a value', () => {
    const s = secretsFrom({ ONE: 'p@ss "word" & more' });
    expect(s.fill('Bearer ${secrets.ONE}')).toBe('Bearer p@ss "word" & more');
    expect(s.fill('{"t":"${secrets.ONE}"}', true)).toBe('{"t":"p@ss \\"word\\" & more"}');
    const forms = ['p@ss "word" & more', encodeURIComponent('p@ss "word" & more'), 'p%40ss+%22word%22+%26+more', 'p@ss \\"word\\" & more'];
    for (const form of forms) expect(s.mask(`x=${form};`)).toBe('x=***;');
    expect(s.maskDeep({ [`k-p@ss "word" & more`]: ['p@ss "word" & more', 3] })).toEqual({ 'k-***': ['***', 3] });
    expect(NO_SECRETS.mask('p@ss')).toBe('p@ss');
  });
});
