import { StreamedText } from './streamed-text';

describe('StreamedText', () => {
  let now: number;
  let sent: string[];
  let text: StreamedText;
  beforeEach(() => {
    now = 0;
    sent = [];
    text = new StreamedText(1_000, () => now, (delta) => sent.push(delta));
  });
  afterEach(() => text.flush());

  it('sends the first delta at once and joins what follows within the window, in order', () => {
    text.add('Hel');
    text.add('lo');
    text.add(', ');
    expect(sent).toEqual(['Hel']);
    text.flush();
    expect(sent).toEqual(['Hel', 'lo, ']);
  });

  it('sends at once again once the window has passed since the last send', () => {
    text.add('a');
    now += 1_000;
    text.add('b');
    expect(sent).toEqual(['a', 'b']);
  });

  it('sends nothing on a flush with nothing pending', () => {
    text.flush();
    text.add('x');
    text.flush();
    text.flush();
    expect(sent).toEqual(['x']);
  });

  it('sends what waited when the window ends, without another delta', async () => {
    const timed = new StreamedText(5, () => Date.now(), (delta) => sent.push(delta));
    timed.add('first');
    timed.add('second');
    expect(sent).toEqual(['first']);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => sent.length === 2 && (clearInterval(poll), resolve()), 1);
    });
    expect(sent).toEqual(['first', 'second']);
  });
});
