import { holdsNonFiniteNumber, nestsDeeperThan } from './json-limits';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('nestsDeeperThan', () => {
  it('compares the nesting of arrays and objects with the limit', () => {
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    expect(nestsDeeperThan(`{"a":${'{"b":'.repeat(70)}1${'}'.repeat(70)}}`, 64)).toBe(true);
    expect(nestsDeeperThan(`[${Array.from({ length: 200 }, () => '[1]').join(',')}]`, 64)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ text: '['.repeat(100) }), 64)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ text: `"\\${'{'.repeat(100)}` }), 64)).toBe(false);
  });
});

describe('holdsNonFiniteNumber', () => {
  const check = (json: string) => holdsNonFiniteNumber(json, JSON.parse(json));

  it('finds numbers JSON.parse turned into infinities, anywhere', () => {
    expect(check('{"a":[1,{"b":1e400}]}')).toBe(true);
    expect(check('-1E+400')).toBe(true);
    expect(check(`[1${'0'.repeat(300)}e10]`)).toBe(true);
  });

  it('accepts large finite numbers and text that looks like them', () => {
    expect(check('{"a":1.5e300,"b":1e-400}')).toBe(false);
    expect(check('{"text":"1e400"}')).toBe(false);
    expect(check(`"${'9'.repeat(400)}"`)).toBe(false);
  });
});
