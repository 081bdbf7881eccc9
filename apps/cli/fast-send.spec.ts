import { parseFastSend } from './fast-send';

describe('ksi send without Nest: reading its arguments as commander does', () => {
  it("takes send's own options in either form, wherever they are, and keeps everything else as the event and its data", () => {
    expect(parseFastSend(['send', 'state:set', '--key', 'k', '-o', 'json', '--value', '{"a":1}', '--socket=/tmp/s.sock'])).toEqual({
      args: ['state:set', '--key', 'k', '--value', '{"a":1}'],
      options: { output: 'json', socket: '/tmp/s.sock' },
    });
    expect(parseFastSend(['send', '--output=yaml', 'system:health', '--json', '{}', '-s', 'x.sock'])).toEqual({ args: ['system:health'], options: { output: 'yaml', json: '{}', socket: 'x.sock' } });
    // A data flag whose value has an equals sign stays whole.
    expect(parseFastSend(['send', 'state:set', '--value=a=b'])).toEqual({ args: ['state:set', '--value=a=b'], options: {} });
  });

  it('leaves help, `--`, a missing event, an option without its value and other commands to the full CLI', () => {
    for (const argv of [['send', 'state:get', '--help'], ['send', '-h'], ['send', '--', 'state:get'], ['send'], ['send', '--key', 'k'], ['send', 'state:get', '-o'], ['send', 'system:health', '-ojson'], ['send', 'system:health', '-s/tmp/x.sock'], ['status'], []]) {
      expect(parseFastSend(argv)).toBeUndefined();
    }
  });
});
