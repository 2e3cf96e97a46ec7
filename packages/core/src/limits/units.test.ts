import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../errors/paddock-error.js';
import { formatDuration, formatSizeMiB } from './format-units.js';
import { formatBytes, parseDurationMs, parseSizeBytes, parseSizeMiB } from './units.js';

describe('parseSizeMiB', () => {
  it('reads Docker-style sizes', () => {
    expect(parseSizeMiB('256m')).toBe(256);
    expect(parseSizeMiB('1g')).toBe(1024);
    expect(parseSizeMiB('1.5G')).toBe(1536);
    expect(parseSizeMiB('512MiB')).toBe(512);
    expect(parseSizeMiB('2048k')).toBe(2);
  });

  it('refuses unknown units and non-numbers with the field named', () => {
    expect(() => parseSizeMiB('1zb', 'memory')).toThrow(BadRequestError);
    expect(() => parseSizeMiB('1zb', 'memory')).toThrow(/memory: invalid size "1zb"/);
    expect(() => parseSizeMiB('lots')).toThrow(BadRequestError);
    expect(() => parseSizeMiB('0m')).toThrow(/positive/);
  });
});

describe('parseSizeBytes', () => {
  it('reads sizes into bytes; a bare number is bytes', () => {
    expect(parseSizeBytes('1g')).toBe(1024 ** 3);
    expect(parseSizeBytes('512k')).toBe(512 * 1024);
    expect(parseSizeBytes('8388608')).toBe(8 * 1024 * 1024);
    expect(parseSizeBytes('1.5m')).toBe(1.5 * 1024 * 1024);
    expect(() => parseSizeBytes('much', 'PADDOCK_MAX_UPLOAD_BYTES')).toThrow(/PADDOCK_MAX_UPLOAD_BYTES: invalid size "much"/);
  });
});

describe('parseDurationMs', () => {
  it('reads durations', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('10m')).toBe(600_000);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('5')).toBe(5000);
  });

  it('refuses garbage', () => {
    expect(() => parseDurationMs('soon')).toThrow(BadRequestError);
    expect(() => parseDurationMs('10x')).toThrow(BadRequestError);
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(376_307_439)).toBe('358.9 MiB');
  });
});

describe('formatDuration and formatSizeMiB', () => {
  it('write values as the flags take them', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(30_000)).toBe('30s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(86_400_000)).toBe('24h');
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatSizeMiB(16)).toBe('16m');
    expect(formatSizeMiB(262_144)).toBe('256g');
    expect(formatSizeMiB(1_048_576)).toBe('1t');
  });
});
