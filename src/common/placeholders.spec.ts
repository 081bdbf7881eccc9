import { substitute } from './placeholders';

describe('substitute', () => {
  const vars = { name: 'Ada', rounds: 3, flags: { loud: true }, nested: { topic: { title: 'tides' } }, empty: '' };

  it('replaces placeholders inside strings, with or without spaces, and follows dotted paths', () => {
    expect(substitute('Hello {{name}}, {{ nested.topic.title }}!', vars)).toBe('Hello Ada, tides!');
  });

  it('gives a string that is one placeholder the value itself, with its type', () => {
    expect(substitute('{{ rounds }}', vars)).toBe(3);
    expect(substitute('{{flags}}', vars)).toEqual({ loud: true });
    expect(substitute('{{ empty }}', vars)).toBe('');
  });

  it('writes non-string values inside a longer string as JSON', () => {
    expect(substitute('rounds={{rounds}} flags={{flags}}', vars)).toBe('rounds=3 flags={"loud":true}');
  });

  it('leaves unknown placeholders as they are', () => {
    expect(substitute('{{ missing }} and {{ nested.nope.deeper }}', vars)).toBe('{{ missing }} and {{ nested.nope.deeper }}');
    expect(substitute('{{ missing }}', vars)).toBe('{{ missing }}');
  });

  it('walks arrays and objects and keeps other values', () => {
    expect(substitute({ list: ['{{name}}', 7, null, { deep: '{{ rounds }}' }], keep: false }, vars)).toEqual({ list: ['Ada', 7, null, { deep: 3 }], keep: false });
  });

  it('never substitutes inside a substituted value: a hostile value stays text', () => {
    expect(substitute('{{ name }}', { name: '{{ secret }}', secret: 'leaked' })).toBe('{{ secret }}');
    expect(substitute('say {{ name }}', { name: '{{ secret }}', secret: 'leaked' })).toBe('say {{ secret }}');
  });

  it('reads only the variables given, never inherited properties', () => {
    expect(substitute('{{ constructor }}', vars)).toBe('{{ constructor }}');
    expect(substitute('x {{ name.length }} {{ toString }}', vars)).toBe('x {{ name.length }} {{ toString }}');
  });
});
