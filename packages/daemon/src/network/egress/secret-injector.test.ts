import { describe, expect, it } from 'vitest';
import { sandboxNetwork } from '../../testing/egress-kit.js';
import { createSandboxCa, LeafCertificates } from '../sandbox-ca.js';
import { SecretInjector } from './secret-injector.js';

const store: Record<string, { value: string; hosts: string[] }> = {
  API_KEY: { value: 'sk-real', hosts: ['api.test', '*.files.test:8443'] },
  OTHER: { value: 'other-real', hosts: ['other.test'] },
};
const injector = new SecretInjector({
  hostsOf: (_owner, name) => store[name]?.hosts,
  reveal: (_owner, name) => store[name],
});
const secrets = [
  { name: 'API_KEY', placeholder: 'PADDOCK_SECRET_1' },
  { name: 'OTHER', placeholder: 'PADDOCK_SECRET_2' },
  { name: 'REMOVED', placeholder: 'PADDOCK_SECRET_3' },
];
const withCa = sandboxNetwork('sb1', ['api.test'], { secrets, leaves: new LeafCertificates(createSandboxCa('sb1')) });

describe('secret injector', () => {
  it('binds a secret to the hosts (and ports) it names, and only for a sandbox that holds secrets and a CA', () => {
    expect(injector.bindsSecret(withCa, 'api.test', 443)).toBe(true);
    expect(injector.bindsSecret(withCa, 'a.files.test', 8443)).toBe(true);
    expect(injector.bindsSecret(withCa, 'a.files.test', 443)).toBe(false);
    expect(injector.bindsSecret(withCa, 'api.test.evil', 443)).toBe(false);
    expect(injector.bindsSecret({ ...withCa, leaves: undefined }, 'api.test', 443)).toBe(false);
    expect(injector.bindsSecret({ ...withCa, secrets: [] }, 'api.test', 443)).toBe(false);
  });

  it('puts the real values in place of placeholders in every header, string or list, only for secrets bound to the host', () => {
    const headers = {
      authorization: 'Bearer PADDOCK_SECRET_1',
      'x-both': ['PADDOCK_SECRET_1:PADDOCK_SECRET_1', 'PADDOCK_SECRET_2'],
      'x-removed': 'PADDOCK_SECRET_3',
      'content-length': 5,
    };
    expect(injector.inject(withCa, 'api.test', 443, headers)).toEqual({
      authorization: 'Bearer sk-real',
      'x-both': ['sk-real:sk-real', 'PADDOCK_SECRET_2'],
      'x-removed': 'PADDOCK_SECRET_3',
      'content-length': 5,
    });
    expect(injector.inject(withCa, 'other.test', 443, headers)).toMatchObject({
      authorization: 'Bearer PADDOCK_SECRET_1',
      'x-both': ['PADDOCK_SECRET_1:PADDOCK_SECRET_1', 'other-real'],
    });
  });

  it('leaves the headers as they are for a host no secret is bound to', () => {
    const headers = { authorization: 'Bearer PADDOCK_SECRET_1' };
    expect(injector.inject(withCa, 'elsewhere.test', 443, headers)).toBe(headers);
  });
});
