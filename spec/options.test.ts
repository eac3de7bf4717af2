import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { normalizeOptions } from '../lib/options';
import { describeValue } from '../lib/describe-value';
import { createServer, sockjsMiddleware, type CompatServerOptions, type HandlerOptions } from '../lib/index';

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
      [{ origins: [42] }, /origins has the number 42/],
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

describe('unknown option names', () => {
  it('throw a TypeError that names the closest known option', () => {
    const cases: [string, string][] = [
      ['responseLimt', 'sockjs: unknown option responseLimt; did you mean responseLimit?'],
      ['heartBeatDelay', 'sockjs: unknown option heartBeatDelay; did you mean heartbeatDelay?'],
      ['origin', 'sockjs: unknown option origin; did you mean origins?'],
      ['respnoseLimit', 'sockjs: unknown option respnoseLimit; did you mean responseLimit?'],
      ['heartbeat_dely', 'sockjs: unknown option heartbeat_dely; did you mean heartbeat_delay?'],
      ['disabledTransports', 'sockjs: unknown option disabledTransports; did you mean disabled_transports?'],
      ['colour', 'sockjs: unknown option colour'],
    ];
    for (const [name, message] of cases) {
      assert.throws(() => sockjsMiddleware({ [name]: 1 } as never), { name: 'TypeError', message });
    }
  });

  it('tell a prefix to mount the service where it should answer', () => {
    assert.throws(() => sockjsMiddleware({ prefix: '/echo' } as never), {
      name: 'TypeError',
      message:
        "sockjs: sockjsMiddleware() has no prefix option; mount it where it should answer: app.use('/echo', sockjsMiddleware())",
    });
  });

  describe('given to createServer()', () => {
    it('are logged with the closest known option and ignored, as sockjs-node ignored them', () => {
      const lines: string[] = [];
      const sockjs = createServer({
        prefix: '/echo',
        faye_server_options: null,
        response_limit: 4096,
        responseLimt: 5,
        log: (severity, message) => lines.push(`${severity} ${message}`),
      } as CompatServerOptions);
      assert.deepEqual(
        lines.filter((line) => line.includes('unknown')),
        ['error unknown option responseLimt; did you mean responseLimit? (ignored, as sockjs-node did)'],
      );
      const http = createHttpServer();
      sockjs.installHandlers(http, { prefx: '/chat' } as HandlerOptions);
      assert.deepEqual(
        lines.filter((line) => line.includes('unknown')).slice(1),
        ['error unknown option prefx; did you mean prefix? (ignored, as sockjs-node did)'],
        'an installation logs its own unknown names only',
      );
      sockjs.detach(http);
    });

    it('still fail on a known name with a wrong value', () => {
      assert.throws(() => createServer({ heartbeat_delay: '25000' as never, log: () => undefined }), {
        name: 'TypeError',
        message: 'sockjs: option heartbeatDelay must be a positive integer, got the string "25000"',
      });
    });
  });
});

describe('type errors', () => {
  it('say what was given', () => {
    assert.throws(() => sockjsMiddleware({ heartbeatDelay: '25000' as never }), {
      name: 'TypeError',
      message: 'sockjs: option heartbeatDelay must be a positive integer, got the string "25000"',
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ responseLimit: -1 }, 'option responseLimit must be a positive integer, got the number -1'],
      [{ maxBodySize: true }, 'option maxBodySize must be a positive integer, got true'],
      [{ fastPath: 'yes' }, 'option fastPath must be a boolean, got the string "yes"'],
      [{ websocket: 0 }, 'option websocket must be a boolean, got the number 0'],
      [{ transports: 'websocket' }, 'must be an array of transport names, got the string "websocket"'],
      [{ transports: [null] }, 'option transports has null; known ones are'],
      [{ log: console }, 'option log must be a function (severity, message), got an object'],
      [{ sockjsUrl: ['/s.js'] }, 'got an array'],
      [{ jsessionid: null }, 'got null'],
      [{ baseUrl: new URL('https://a.example') }, 'got a URL'],
      [{ origins: 'https://a.example' }, `got the string "https://a.example"; write ["https://a.example"]`],
      [{ origins: 42 }, 'got the number 42'],
      [{ origins: [() => true] }, 'option origins has a function; use strings'],
      [{ websocketOptions: 'deflate' }, 'got the string "deflate"'],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => sockjsMiddleware(input as never),
        (error: Error) => error instanceof TypeError && error.message.includes(message),
        message,
      );
    }
    assert.throws(() => sockjsMiddleware('fast' as never), {
      message: 'sockjs: options must be an object, got the string "fast"',
    });
  });

  it('describe every kind of value the same way', () => {
    function named(): void {}
    const cases: [unknown, string][] = [
      ['25000', 'the string "25000"'],
      ['x'.repeat(50), `the string "${'x'.repeat(40)}…"`],
      [25000, 'the number 25000'],
      [NaN, 'the number NaN'],
      [5n, 'the bigint 5n'],
      [false, 'false'],
      [[], 'an empty array'],
      [[1, 2], 'an array'],
      [named, 'the function named'],
      [[() => 1][0], 'a function'],
      [{ a: 1 }, 'an object'],
      [Object.create(null), 'an object'],
      [new Map(), 'a Map'],
      [new Error('x'), 'an Error'],
      [null, 'null'],
      [undefined, 'undefined'],
      [Symbol('s'), 'a symbol'],
    ];
    for (const [value, description] of cases) assert.equal(describeValue(value), description);
  });
});
