/** One `key = value` line of an INI file (PHP-FPM pools, the PHP client's profiling.ini). */
export interface IniEntry {
  section: string;
  key: string;
  /** The value without its quotes and trailing comment. */
  value: string;
  /** Written in quotes: PHP's INI parser then keeps it as it is. */
  quoted: boolean;
  line: number;
}

/**
 * Reads INI text the way PHP's parser splits it: `[section]`, `key = value`, `;` comments (also
 * after an unquoted value), double or single quotes. Values are left as written; what PHP makes
 * of them (an unquoted `false` becomes empty) is for the caller to judge.
 */
export function parseIni(text: string): IniEntry[] {
  const out: IniEntry[] = [];
  let section = '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) return;
    const sec = /^\[([^\]]*)\]/.exec(line);
    if (sec) {
      section = (sec[1] ?? '').trim();
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq).trim();
    let rest = line.slice(eq + 1).trim();
    const q = rest[0];
    if ((q === '"' || q === "'") && rest.indexOf(q, 1) > 0) {
      out.push({ section, key, value: rest.slice(1, rest.indexOf(q, 1)), quoted: true, line: i + 1 });
      return;
    }
    const comment = rest.indexOf(';');
    if (comment >= 0) rest = rest.slice(0, comment).trim();
    out.push({ section, key, value: rest, quoted: false, line: i + 1 });
  });
  return out;
}

/** What PHP's INI parser turns an unquoted word into: null/false/off/no/none → "", true/on/yes → "1". */
export function iniWordValue(e: Pick<IniEntry, 'value' | 'quoted'>): string {
  if (e.quoted) return e.value;
  const w = e.value.toLowerCase();
  if (w === 'null' || w === 'false' || w === 'off' || w === 'no' || w === 'none') return '';
  if (w === 'true' || w === 'on' || w === 'yes') return '1';
  return e.value;
}
