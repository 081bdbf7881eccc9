#!/usr/bin/env node
// The npm mirror on our machines serves only linux-x64 builds, so `npm install` leaves the other
// platforms' optional binaries (of @swc/core and unrs-resolver) out of package-lock.json, and `npm ci`
// then refuses the lock. This adds them back as optional entries with their os/cpu, which npm ci
// skips on a platform that does not match: run it after changing dependencies.
const fs = require('node:fs');
const path = require('node:path');

const file = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony'];
let added = 0;

for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((part) => OS.includes(part));
    if (!os) continue;
    const cpu = parts[parts.indexOf(os) + 1];
    const abi = parts[parts.indexOf(os) + 2];
    packages[key] = {
      version,
      cpu: [cpu],
      ...(entry.dev && { dev: true }),
      ...(os === 'linux' && abi && { libc: [abi.startsWith('musl') ? 'musl' : 'glibc'] }),
      optional: true,
      os: [os],
    };
    added++;
  }
  void location;
}

lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries to package-lock.json`);
