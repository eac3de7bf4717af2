import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { originPattern } from '../lib/http/origin-pattern';

describe('origins patterns', () => {
  it('matches a plain origin exactly, in any case', () => {
    const matches = originPattern('https://app.example.com');
    assert.equal(matches('https://app.example.com'), true);
    assert.equal(matches('HTTPS://App.Example.COM'), true);
    assert.equal(matches('https://app.example.com.evil.net'), false);
    assert.equal(matches('https://app.example.co'), false);
  });

  it('lets * stand for any run of characters but /, the empty run included', () => {
    const matches = originPattern('https://*.example.com');
    assert.equal(matches('https://a.example.com'), true);
    assert.equal(matches('https://a.b.c.example.com'), true);
    assert.equal(matches('https://.example.com'), true);
    assert.equal(matches('https://evil.net/.example.com'), false, '* never crosses a /');
    assert.equal(matches('https://example.com'), false);
    assert.equal(matches('http://a.example.com'), false);
    assert.equal(originPattern('*')('https://anything'), false, 'a scheme has slashes');
    assert.equal(originPattern('https://*')('https://anything:8080'), true);
    assert.equal(originPattern('http://localhost:*')('http://localhost:3000'), true);
    assert.equal(originPattern('http://localhost:*')('http://localhost:3000/x'), false);
  });

  it('handles several stars, adjacent ones too, and literal parts that repeat', () => {
    const matches = originPattern('https://*.*.example.com');
    assert.equal(matches('https://a.b.example.com'), true);
    assert.equal(matches('https://a.example.com'), false);
    assert.equal(originPattern('https://**.example.com')('https://a.example.com'), true);
    assert.equal(originPattern('https://a*a*a.test')('https://aaa.test'), true);
    assert.equal(originPattern('https://a*a*a.test')('https://aa.test'), false);
  });

  it('answers an origin built to make a backtracking matcher explode, and answers it right', () => {
    // Against /^https:\/\/[^/]*a[^/]*a[^/]*a[^/]*b$/ this input takes a backtracking engine
    // cubic time; the pattern walk takes length times pattern steps.
    const matches = originPattern('https://*a*a*a*b');
    const origin = 'https://' + 'a'.repeat(2000);
    assert.equal(matches(origin), false);
    assert.equal(matches(origin + 'b'), true);
  });
});
