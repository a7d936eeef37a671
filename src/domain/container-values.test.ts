// The container value grammars: OCI references, volume paths, host volume grants.
import { describe, expect, it } from 'vitest';
import {
  hostPathProblem,
  isImageReference,
  isVolumeGranted,
  parseHostVolumeGrant,
} from './container-values.js';

describe('isImageReference', () => {
  it('accepts the references distribution/reference accepts', () => {
    for (const image of [
      'busybox',
      'library/busybox:1.36',
      'localhost:5000/a/b-c__d.e:tag_1',
      'registry.example/team/app@sha256:' + 'f'.repeat(64),
      '[::1]:5000/app:v1',
      'UPPER.example/app',
    ]) {
      expect(isImageReference(image), image).toBe(true);
    }
  });

  it('refuses flags, spaces, upper-case paths, empty parts and overlong names', () => {
    for (const image of [
      '--privileged',
      '-v',
      'app --rm',
      'App',
      'a//b',
      'a:',
      'a@sha256:short',
      `${'a'.repeat(256)}`,
      'a\nb',
    ]) {
      expect(isImageReference(image), image).toBe(false);
    }
  });
});

describe('hostPathProblem', () => {
  it('lets relative paths stay inside the sandbox and refuses any that climb out', () => {
    expect(hostPathProblem('data')).toBeUndefined();
    expect(hostPathProblem('a/../b')).toBeUndefined();
    expect(hostPathProblem('/srv/data')).toBeUndefined();
    for (const bad of ['..', '../x', 'a/../../x', './..', 'a/b/../../..']) {
      expect(hostPathProblem(bad), bad).toMatch(/inside the sandbox/);
    }
    expect(hostPathProblem('a:b')).toMatch(/must not contain/);
  });
});

describe('host volume grants', () => {
  it('grants paths at or below the grant, read-only when the grant says so, never via ..', () => {
    const grant = parseHostVolumeGrant('/srv/data/:ro');
    expect(grant).toEqual({ path: '/srv/data', isReadOnly: true });
    expect(isVolumeGranted({ hostPath: '/srv/data/x', isReadOnly: true }, grant)).toBe(true);
    expect(isVolumeGranted({ hostPath: '/srv/data/x', isReadOnly: false }, grant)).toBe(false);
    expect(isVolumeGranted({ hostPath: '/srv/database', isReadOnly: true }, grant)).toBe(false);
    expect(isVolumeGranted({ hostPath: '/srv/data/../../etc', isReadOnly: true }, grant)).toBe(
      false,
    );
    expect(() => parseHostVolumeGrant('srv/data')).toThrow(/absolute/);
    expect(() => parseHostVolumeGrant('/srv:rx')).toThrow(/absolute/);
  });
});
