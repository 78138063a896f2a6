// What the mutation scripts share: reading StrykerJS reports, and the layout of the
// sorting files (bench/mutation-equivalents.md, bench/mutation-kills.json).

import { readFileSync } from 'node:fs';

export const EQUIVALENTS_URL = new URL('./mutation-equivalents.md', import.meta.url);
export const KILLS_URL = new URL('./mutation-kills.json', import.meta.url);

/**
 * The `files` of several reports merged (a file in two reports counts from the last one).
 * StrykerJS's incremental state files share the chunk globs and are skipped. Exits 2 on a bad file.
 */
export function loadReportFiles(paths) {
  const files = {};
  for (const p of paths) {
    if (p.endsWith('.incremental.json')) continue;
    try {
      Object.assign(files, JSON.parse(readFileSync(p, 'utf8')).files ?? {});
    } catch (e) {
      console.error(`cannot read ${p}: ${e.message}`);
      process.exit(2);
    }
  }
  return files;
}

/**
 * The lines of the equivalents file that list equivalents, with their file: `- ` items under a
 * `## reference/<file>.ts` heading. A paragraph starting "Not equivalent" lists known divergences,
 * not equivalents: skipped to the next heading.
 */
export function* listedEquivalentLines(lines) {
  let section = null;
  let skipping = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = /^## (reference\/\S+\.ts)/.exec(line);
    if (line.startsWith('## ')) skipping = false;
    if (line.startsWith('Not equivalent')) skipping = true;
    if (h) section = h[1];
    else if (line.startsWith('## ')) section = null;
    else if (section !== null && !skipping && line.startsWith('- ')) yield { i, line, section };
  }
}
