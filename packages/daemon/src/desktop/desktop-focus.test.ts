import { describe, expect, it } from 'vitest';
import { cleanText, cleanUrl } from './desktop-service.js';

describe('what a policy is told of the focused window (the sandbox’s word)', () => {
  it('S8: a window title from the sandbox loses control and format characters (bidi overrides, zero-width) and is bounded', () => {
    expect(cleanText('Bank\u202e knaB\u200b\n\x00 - Chromium', 256)).toBe('Bank knaB - Chromium');
    expect(cleanText('x'.repeat(10_000), 256)).toHaveLength(256);
  });

  it('S8: a page URL from the sandbox is re-spelt by the URL parser, without credentials, bounded, with its host for http(s) only', () => {
    expect(cleanUrl('https://user:pw@Online.BANK.example./login?x=1')).toEqual({
      url: 'https://online.bank.example./login?x=1',
      domain: 'online.bank.example',
    });
    expect(cleanUrl('http://bücher.example/')).toEqual({ url: 'http://xn--bcher-kva.example/', domain: 'xn--bcher-kva.example' });
    expect(cleanUrl('about:blank')).toEqual({ url: 'about:blank' });
    expect(cleanUrl('not a url')).toBeUndefined();
    expect(cleanUrl(`https://a.example/${'p'.repeat(5000)}`)?.url).toHaveLength(2048);
  });
});
