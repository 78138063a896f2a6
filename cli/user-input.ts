// verify's --config/--dtb/--cmdline/--kernel: read the user's files and build
// their profile. Anything unreadable or malformed becomes a UsageError (one
// line, exit 2), never a stack trace.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { KernelVersion } from '../reference/config/profile.ts';
import { KconfigError } from '../reference/config/kconfig.ts';
import { DtbError } from '../reference/config/dtb.ts';
import { buildUserProfile, UserInputError, type UserProfile } from '../reference/config/user-profile.ts';
import { UsageError } from './args.ts';

export interface UserOptions {
  config?: string[];
  dtb?: string[];
  cmdline?: string[];
  kernel?: string[];
}

export interface LoadedUserProfile extends UserProfile {
  /** The options that rebuild this profile, for replay lines. */
  args: string;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./,:=+@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/** The user profile the options describe; null when none of them is given. */
export function loadUserProfile(opts: UserOptions): LoadedUserProfile | null {
  const { config, dtb, cmdline, kernel } = opts;
  if (config === undefined && dtb === undefined && cmdline === undefined && kernel === undefined) return null;
  const k = kernel?.[0];
  if (k !== undefined && k !== '5.10' && k !== '6.6') throw new UsageError(`--kernel must be 5.10 or 6.6, got "${k}"`);
  const configPath = config?.[0];
  const dtbPath = dtb?.[0];
  const configText = configPath !== undefined ? read(configPath, '--config').toString('utf8') : undefined;
  const blob = dtbPath !== undefined ? new Uint8Array(read(dtbPath, '--dtb')) : undefined;
  const name = `user${dtbPath !== undefined ? `:${basename(dtbPath)}` : ''}${configPath !== undefined ? `:${basename(configPath)}` : ''}`;
  let u: UserProfile;
  try {
    u = buildUserProfile({
      name,
      ...(configText !== undefined ? { config: configText, configSource: configPath } : {}),
      ...(blob !== undefined ? { dtb: blob } : {}),
      ...(cmdline !== undefined ? { cmdline: cmdline[0] } : {}),
      ...(k !== undefined ? { kernel: k as KernelVersion } : {}),
    });
  } catch (e) {
    if (e instanceof KconfigError) throw new UsageError(`malformed .config: ${e.message}`);
    if (e instanceof DtbError) throw new UsageError(`malformed dtb ${dtbPath ?? ''}: ${e.message}`);
    if (e instanceof UserInputError) throw new UsageError(e.message);
    throw e;
  }
  const args = [
    ...(configPath !== undefined ? ['--config', shellQuote(configPath)] : []),
    ...(dtbPath !== undefined ? ['--dtb', shellQuote(dtbPath)] : []),
    ...(cmdline !== undefined ? ['--cmdline', shellQuote(cmdline[0])] : []),
    '--kernel',
    u.profile.kernel,
  ].join(' ');
  return { ...u, args };
}
