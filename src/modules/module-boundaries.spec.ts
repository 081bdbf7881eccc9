import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** Feature modules talk through events only: no file of one imports a file of another. */
const MODULES = __dirname;

/** The imports of `file` (its source `text`) that land in another feature module's folder. */
function crossModuleImports(file: string, text: string): string[] {
  const own = path.relative(MODULES, file).split(path.sep)[0];
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .filter((specifier) => {
      const target = path.relative(MODULES, path.resolve(path.dirname(file), specifier));
      const module = target.split(path.sep)[0];
      return !target.startsWith('..') && target.includes(path.sep) && module !== own;
    })
    .map((specifier) => `${path.relative(MODULES, file)} imports ${specifier}`);
}

describe('module boundaries', () => {
  it('finds an import of another module, static, dynamic or required, and lets shared code and the module itself pass', () => {
    const file = path.join(MODULES, 'agent', 'agent.service.ts');
    const text = [
      "import { StateService } from '../state/state.service';",
      "import { Clock } from '../../common/clock';",
      "import { AgentRepository } from './agent.repository';",
      "const later = () => import('../message/message.bus');",
      "const sync = require('../monitor/redact');",
    ].join('\n');
    expect(crossModuleImports(file, text)).toEqual([
      'agent/agent.service.ts imports ../state/state.service',
      'agent/agent.service.ts imports ../message/message.bus',
      'agent/agent.service.ts imports ../monitor/redact',
    ]);
  });

  it('no file of a feature module, tests included, imports a file of another', () => {
    const files = (fs.readdirSync(MODULES, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts') && file.includes(path.sep)).map((file) => path.join(MODULES, file));
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => crossModuleImports(file, fs.readFileSync(file, 'utf8')))).toEqual([]);
  });
});
