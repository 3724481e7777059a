import { describe, expect, it } from 'vitest';
import { featureFlagProblems, servedFlagValues } from '#local-stack/appconfig/feature-flags.ts';

const check = (document: unknown) =>
  featureFlagProblems(Buffer.from(typeof document === 'string' ? document : JSON.stringify(document)));

describe('feature-flag documents, checked as AppConfig checks them', () => {
  it('accepts a document with definitions, attributes under constraints, and values', () => {
    // Prepare
    const document = {
      version: '1',
      flags: {
        allAutonomousLanes: { name: 'All autonomous lanes', description: 'master switch' },
        'support-triage': {
          name: 'support-triage autonomous lane',
          _createdAt: '2025-01-01T00:00:00Z',
          attributes: {
            reason: { constraints: { type: 'string', required: true } },
            level: { constraints: { type: 'number', minimum: 0, maximum: 5 } },
            tags: { constraints: { type: 'array', elements: { type: 'string', enum: ['a', 'b'] } } },
          },
        },
      },
      values: {
        allAutonomousLanes: { enabled: true },
        'support-triage': { enabled: true, reason: 'initial', level: 2, tags: ['a'], _updatedAt: 'now' },
      },
    };

    // Act
    const problems = check(document);

    // Assess
    expect(problems).toEqual([]);
  });

  it('accepts the empty flag set AppConfig allows (flags and values may be absent)', () => {
    expect(check({ version: '1' })).toEqual([]);
  });

  it('names every problem with a JSON pointer to where it is', () => {
    // Prepare
    const document = {
      version: 1,
      extra: true,
      flags: {
        Bad: { name: 'capitalised key' },
        checkout: {
          name: 'Checkout',
          attributes: { reason: { constraints: { type: 'string', maxLength: 1024 } } },
        },
        limits: { name: 'Limits', attributes: { level: { constraints: { type: 'number', maximum: 5 } } } },
      },
      values: {
        checkout: { enabled: 'yes' },
        limits: { enabled: true, level: 'high' },
        ghost: { enabled: true },
      },
    };

    // Act
    const problems = check(document);

    // Assess
    expect(problems.map((problem) => problem.location)).toEqual([
      '/extra',
      '/version',
      '/flags/Bad',
      '/flags/checkout/attributes/reason/constraints/maxLength',
      '/values/checkout/enabled',
      '/values/limits/level',
      '/values/ghost',
    ]);
    expect(problems.find((problem) => problem.location === '/values/ghost')?.reason).toBe(
      '"ghost" has a value but no definition under "flags"',
    );
  });

  it('checks attribute values against their constraints, and required ones only on enabled flags', () => {
    // Prepare
    const flags = {
      lane: {
        name: 'Lane',
        attributes: {
          reason: { constraints: { type: 'string', required: true, pattern: '^[a-z ]+$' } },
          level: { constraints: { type: 'number', minimum: 1 } },
        },
      },
    };

    // Act
    const missingWhenOn = check({ version: '1', flags, values: { lane: { enabled: true } } });
    const missingWhenOff = check({ version: '1', flags, values: { lane: { enabled: false } } });
    const outOfBounds = check({
      version: '1',
      flags,
      values: { lane: { enabled: true, reason: 'OK!', level: 0 } },
    });

    // Assess
    expect(missingWhenOn).toEqual([
      { location: '/values/lane/reason', reason: "is required by the flag's attribute constraints" },
    ]);
    expect(missingWhenOff).toEqual([]);
    expect(outOfBounds.map((problem) => problem.reason)).toEqual([
      'does not match the pattern ^[a-z ]+$',
      'must be at least 1',
    ]);
  });

  it('says so when the content is not JSON at all', () => {
    expect(check('{"version": "1",')[0]?.reason).toMatch(/^not valid JSON/);
    expect(check('[]')[0]?.reason).toContain('must be a JSON object');
  });
});

describe('what AppConfigData serves for a feature-flag profile', () => {
  it('drops definitions, keeps attributes of enabled flags only, and serves flags without a value as off', () => {
    // Prepare
    const document = {
      version: '1',
      flags: { on: { name: 'On' }, off: { name: 'Off' }, unset: { name: 'Unset' } },
      values: {
        on: { enabled: true, reason: 'initial', _createdAt: 'then', _variants: [] },
        off: { enabled: false, reason: 'incident' },
      },
    };

    // Act
    const served = servedFlagValues(Buffer.from(JSON.stringify(document)));

    // Assess
    expect(served).toEqual({
      on: { enabled: true, reason: 'initial' },
      off: { enabled: false },
      unset: { enabled: false },
    });
  });
});
