/** SQLite's GLOB as an anchored POSIX regular expression: `*` any text, `?` one character, `[...]` / `[^...]` a set; case-sensitive. */
export function globPattern(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*') out += '.*';
    else if (char === '?') out += '.';
    else if (char === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      out += `[${negated ? '^' : ''}${(negated ? body.slice(1) : body).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return `${out}$`;
}
