import { LINE_TOO_LONG, LineSplitter, type Frame } from './framing';

const feed = (splitter: LineSplitter, ...chunks: string[]) => {
  const out: Frame[] = [];
  for (const chunk of chunks) splitter.push(Buffer.from(chunk), out);
  return out;
};

describe('LineSplitter', () => {
  it('joins lines split across chunks and strips CR', () => {
    expect(feed(new LineSplitter(), '{"a":', '1}\r\n{"b"', ':2}\n')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from('"héllo"\n');
    const splitter = new LineSplitter();
    const out: Frame[] = [];
    splitter.push(bytes.subarray(0, 3), out);
    splitter.push(bytes.subarray(3), out);
    expect(out).toEqual(['"héllo"']);
  });

  it('reports an over-long line once and skips to its end, across chunks', () => {
    const splitter = new LineSplitter(10);
    expect(feed(splitter, '12345', '678901234', '5678', '90\nok\n')).toEqual([LINE_TOO_LONG, 'ok']);
  });

  it('counts an unterminated last line at end of stream', () => {
    const splitter = new LineSplitter();
    const out = feed(splitter, 'one\ntwo');
    splitter.end(out);
    expect(out).toEqual(['one', 'two']);
  });
});
