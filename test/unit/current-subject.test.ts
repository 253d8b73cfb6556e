import { describe, expect, it } from 'vitest';
import type { NamespaceSubject, Subject } from '../../src/engine/types.js';
import { forCurrentSubject } from '../../src/rules/current-subject.js';
import { programFor, ruleVariables } from '../../src/rules/policy.js';

function namespace(name: string, labels: Record<string, string> = {}): NamespaceSubject {
  return {
    kind: 'namespace',
    name,
    object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
    source: { location: 'admission' },
  };
}

describe('forCurrentSubject', () => {
  it('makes the data once for the subject being judged and again for the next one', () => {
    const made: string[] = [];
    const scratch = forCurrentSubject((s) => {
      const name = s.kind === 'namespace' ? s.name : '?';
      made.push(name);
      return { of: name };
    });
    const a = namespace('a');
    const b = namespace('b');
    const first = scratch(a);
    expect(scratch(a)).toBe(first);
    expect(scratch(b)).toEqual({ of: 'b' });
    // Back to a: its data is made afresh, never another subject's.
    expect(scratch(a)).toEqual({ of: 'a' });
    expect(scratch(a)).not.toBe(first);
    expect(made).toEqual(['a', 'b', 'a']);
  });

  it('gives each subject its own CEL variables, whichever came before', () => {
    const plain = namespace('plain');
    const injected = namespace('gloo-mesh', { 'istio-injection': 'enabled' });
    const injection = programFor(
      "'istio-injection' in object.metadata.labels ? object.metadata.labels['istio-injection'] : 'none'",
    );
    const read = (s: Subject): unknown => injection.run(ruleVariables(s)).value;
    expect(read(plain)).toBe('none');
    expect(read(injected)).toBe('enabled');
    expect(read(plain)).toBe('none');
    expect(ruleVariables(plain)).toBe(ruleVariables(plain));
  });
});
