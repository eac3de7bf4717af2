import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeOptions } from '../lib/options';
import { sockjsMiddleware } from '../lib/index';

describe('options', () => {
  it('has the documented defaults', () => {
    const options = normalizeOptions();
    assert.equal(options.responseLimit, 128 * 1024);
    assert.equal(options.heartbeatDelay, 25_000);
    assert.equal(options.disconnectDelay, 5_000);
    assert.equal(options.jsessionid, false);
    assert.equal(options.disableCors, false);
    assert.equal(options.maxBodySize, 1024 * 1024);
    assert.equal(options.websocketOptions.maxPayload, 1024 * 1024);
    assert.equal(options.websocketOptions.perMessageDeflate, false);
    assert.equal(options.origins.kind, 'own');
    assert.equal(options.maxSessions, Infinity);
    assert.equal(options.maxQueuedBytes, 4 * 1024 * 1024);
    assert.equal(options.highWaterMark, 64 * 1024);
    assert.equal(options.bodyTimeout, 10_000);
    assert.equal(options.fastPath, false);
    assert.equal(options.bindSessionToAddress, false);
    assert.deepEqual([...options.transports].sort(), [
      'eventsource',
      'htmlfile',
      'jsonp-polling',
      'websocket',
      'xhr-polling',
      'xhr-streaming',
    ]);
    assert.match(options.sockjsUrl, /^https:\/\//);
  });

  it('is frozen and leaves the caller object alone', () => {
    const input = { heartbeatDelay: 10 };
    const options = normalizeOptions(input);
    assert.ok(Object.isFrozen(options));
    assert.deepEqual(input, { heartbeatDelay: 10 });
  });

  it('accepts the sockjs-node snake_case names', () => {
    const options = normalizeOptions({
      sockjs_url: '/s.js',
      response_limit: 10,
      heartbeat_delay: 20,
      disconnect_delay: 30,
      disable_cors: true,
      max_body_size: 40,
      disabled_transports: ['websocket'],
      bind_session_to_address: true,
    });
    assert.equal(options.sockjsUrl, '/s.js');
    assert.equal(options.responseLimit, 10);
    assert.equal(options.heartbeatDelay, 20);
    assert.equal(options.disconnectDelay, 30);
    assert.equal(options.disableCors, true);
    assert.equal(options.maxBodySize, 40);
    assert.equal(options.transports.has('websocket'), false);
    assert.equal(options.bindSessionToAddress, true);
  });

  it('rejects a name and its alias that disagree', () => {
    assert.throws(() => normalizeOptions({ heartbeatDelay: 1, heartbeat_delay: 2 }), {
      name: 'TypeError',
      message: /heartbeatDelay and heartbeat_delay/,
    });
  });

  it('throws a TypeError naming the option for bad values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ responseLimit: -1 }, /responseLimit must be a positive integer/],
      [{ heartbeatDelay: '25' }, /heartbeatDelay must be a positive integer/],
      [{ disconnectDelay: 1.5 }, /disconnectDelay must be a positive integer/],
      [{ maxBodySize: 0 }, /maxBodySize must be a positive integer/],
      [{ sockjsUrl: 'javascript:alert(1)' }, /sockjsUrl must be a string starting with/],
      [{ jsessionid: 'yes' }, /jsessionid must be a boolean, a function \(req, res\) or cookie attributes/],
      [{ jsessionid: { sameSite: 'lax' } }, /jsessionid.sameSite must be "Strict", "Lax" or "None"/],
      [{ origins: 'https://example.com' }, /origins must be '\*', 'same-origin', an array/],
      [{ origins: [42] }, /origins has 42/],
      [{ maxSessions: -1 }, /maxSessions must be a positive integer/],
      [{ maxQueuedBytes: 0 }, /maxQueuedBytes must be a positive integer/],
      [{ highWaterMark: 'big' }, /highWaterMark must be a positive integer/],
      [{ bodyTimeout: 0 }, /bodyTimeout must be a positive integer/],
      [{ transports: ['xhr-polling', 'carrier-pigeon'] }, /unknown transport "carrier-pigeon"/],
      [{ transports: 'websocket' }, /transports must be an array/],
      [{ websocket: 'no' }, /websocket must be a boolean/],
      [{ disableCors: 1 }, /disableCors must be a boolean/],
      [{ bindSessionToAddress: 'yes' }, /bindSessionToAddress must be a boolean/],
      [
        { bindSessionToAddress: true, bind_session_to_address: false },
        /bind_session_to_address \(its alias\)/,
      ],
      [{ log: 'console' }, /log must be a function/],
      [{ websocketOptions: { maxPayload: -5 } }, /websocketOptions.maxPayload must be a positive integer/],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => sockjsMiddleware(input as never), { name: 'TypeError', message });
    }
  });

  it('turns websocket off with websocket: false or a transports list without it', () => {
    assert.equal(normalizeOptions({ websocket: false }).transports.has('websocket'), false);
    assert.deepEqual([...normalizeOptions({ transports: ['xhr-polling'] }).transports], ['xhr-polling']);
  });

  it('matches origins exactly, by * pattern, by regular expression, or by function', () => {
    const req = {} as never;
    const listed = normalizeOptions({
      origins: ['https://app.example.com', 'https://*.example.org', /^http:\/\/localhost:\d+$/],
    }).origins.allows;
    assert.equal(listed('https://app.example.com', req, null), true);
    assert.equal(listed('https://APP.example.com', req, null), true);
    assert.equal(listed('https://evil.example.com', req, null), false);
    assert.equal(listed('https://a.example.org', req, null), true);
    assert.equal(listed('https://example.org.evil.net', req, null), false);
    assert.equal(listed('http://localhost:3000', req, null), true);
    assert.equal(listed('null', req, null), false);
    const byFunction = normalizeOptions({ origins: (origin) => origin.endsWith('.test') }).origins;
    assert.equal(byFunction.allows('http://a.test', req, null), true);
    assert.equal(byFunction.allows('http://a.example', req, null), false);
  });

  it('lets the literal origin null in only when a list names it or a rule says so', () => {
    const req = {} as never;
    for (const origins of [['*://*'], ['n*'], ['*l'], ['https://*.example.com']]) {
      assert.equal(normalizeOptions({ origins }).origins.allows('null', req, null), false, String(origins));
    }
    assert.equal(normalizeOptions({ origins: ['null'] }).origins.allows('null', req, null), true);
    assert.equal(normalizeOptions({ origins: [/^null$/] }).origins.allows('null', req, null), true);
    assert.equal(
      normalizeOptions({ origins: (origin) => origin === 'null' }).origins.allows('null', req, null),
      true,
    );
  });

  it("takes '*' and 'same-origin' as the whole option or in a list", () => {
    assert.equal(normalizeOptions({ origins: '*' }).origins.kind, 'every');
    assert.equal(normalizeOptions({ origins: ['https://a.example', '*'] }).origins.kind, 'every');
    assert.equal(normalizeOptions({ origins: 'same-origin' }).origins.kind, 'own');
    const req = { headers: { host: 'app.example:8080' }, socket: {} } as never;
    const mixed = normalizeOptions({ origins: ['same-origin', 'https://b.example'] }).origins;
    assert.equal(mixed.allows('http://app.example:8080', req, null), true);
    assert.equal(mixed.allows('https://b.example', req, null), true);
    assert.equal(mixed.allows('http://app.example:8081', req, null), false);
    assert.throws(() => normalizeOptions({ origins: 'every' as never }), /origins must be/);
  });

  it('counts only true from an origins function: a promise is no yes', () => {
    const req = {} as never;
    const sloppy = normalizeOptions({ origins: (async () => true) as never }).origins;
    assert.equal(sloppy.allows('https://a.example', req, null), false);
  });

  it('lets websocketOptions override maxPayload and compression', () => {
    const options = normalizeOptions({ websocketOptions: { maxPayload: 4096, perMessageDeflate: true } });
    assert.equal(options.websocketOptions.maxPayload, 4096);
    assert.equal(options.websocketOptions.perMessageDeflate, true);
  });
});
