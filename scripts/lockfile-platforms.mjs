// Restores the optional, platform-specific packages (other OSes' and CPUs' binaries of
// biome and buf) that `npm install` leaves out of package-lock.json when the registry it
// talks to does not serve them. `npm ci` refuses a lockfile that lacks them; with these
// entries it validates, and skips them on platforms they are not for.
// Run after `npm install` changes the lockfile: node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

function platformOf(name) {
  const os = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'sunos', 'aix'].find((o) =>
    name.includes(`-${o}-`),
  );
  const cpu = ['arm64', 'x64', 'armv7', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64'].find((c) =>
    new RegExp(`-${c}(-|$)`).test(name),
  );
  if (!os || !cpu) return undefined;
  return {
    os: [os],
    cpu: [cpu === 'armv7' ? 'arm' : cpu],
    ...(name.endsWith('-musl') ? { libc: ['musl'] } : {}),
  };
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    const platform = platformOf(dep);
    if (packages[depKey] || !platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    packages[depKey] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added += 1;
    console.log(`added ${depKey}@${version} (for ${key})`);
  }
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
  );
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`${added} platform entries added`);
