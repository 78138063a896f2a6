// The property suites skip COHERENCE_VARIANTS outside the coherence harness on the
// claim that they equal c920-sg2042-6.6 everywhere else: this holds the claim to it.
import { describe, expect, it } from 'vitest';
import { COHERENCE_VARIANTS, CORRECT_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import type { Profile } from '../../reference/config/profile.ts';

/** What only the coherence harness reads: the T-Head constant table and the rx-behind-header driver flag. */
function outsideCoherence(p: Profile): unknown {
  return {
    ...p,
    name: '',
    description: '',
    platform: { ...p.platform, memTypes: p.platform.memTypes.scheme },
    devices: p.devices.map(({ rxBehindHeader: _ignored, ...d }) => d),
  };
}

describe('coherence variants', () => {
  it.each([...COHERENCE_VARIANTS].map((n) => [n] as const))('%s is a correct profile equal to c920-sg2042-6.6 outside the coherence harness', (name) => {
    const p = findProfile(name)!;
    expect(CORRECT_PROFILES).toContain(p);
    expect(outsideCoherence(p)).toEqual(outsideCoherence(findProfile('c920-sg2042-6.6')!));
  });
});
