// Nest 12 packages are ESM-only and Jest 30 on Node 20 cannot require() ESM, so @swc/jest
// transforms them (and our TypeScript) to CommonJS. See shared/reference/nestjs-12-notes.md §0.2.
const swcTs = {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};
const swcJs = { jsc: { target: 'es2023', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } };
const esm = ['@nestjs', 'chalk', '@nyariv', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit'];

module.exports = {
  roots: ['<rootDir>/src/', '<rootDir>/libs/', '<rootDir>/test/', '<rootDir>/apps/'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.spec\\.ts$',
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', swcTs],
    [`^.+/node_modules/(${esm.join('|')})/.+\\.js$`]: ['@swc/jest', swcJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  setupFiles: ['<rootDir>/test/support/check-results.ts'],
  testTimeout: 30000,
  // A failed assertion can skip a suite's client.close(); the run must still end (CI has a time limit).
  forceExit: true,
};
