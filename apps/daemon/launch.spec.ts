import * as fs from 'node:fs';
import * as path from 'node:path';
import { DAEMON_NODE_FLAGS } from './launch';

describe('daemon launch', () => {
  it('npm start runs the daemon with the same Node flags as ksi daemon start, the bench and the tests', () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toMatch(new RegExp(`&& node ${DAEMON_NODE_FLAGS.join(' ')} bin/ksi-daemon$`));
  });
});
