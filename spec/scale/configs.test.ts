/**
 * The balancer configurations of docs/deployment.md, read as text (no proxy needed): each
 * is there, its idle timeouts leave room for the heartbeat, and the renderer the tests and
 * `npm run cluster-demo` use changes nothing but addresses, servers and timeouts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DOCUMENTED_HEARTBEAT_MS,
  configBlock,
  documentedConfig,
  haproxyConfig,
  haproxyIdleTimeouts,
  nginxConfig,
  nginxIdleTimeouts,
} from '../../scripts/cluster/configs';

const UPSTREAMS = [
  { name: 'alpha', port: 5001 },
  { name: 'beta', port: 5002 },
];

/** Lines that are neither blank nor comments, trimmed. */
function significant(config: string): string[] {
  return config
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

describe('the configurations of docs/deployment.md', () => {
  it('finds each block by its marker', () => {
    assert.equal(configBlock('<!-- config: x -->\n\n```haproxy\na\nb\n```\n', 'x'), 'a\nb');
    assert.throws(() => configBlock('nothing here', 'x'), /no "<!-- config: x -->"/);
  });

  for (const name of ['haproxy-sticky', 'haproxy-jsessionid', 'haproxy-round-robin']) {
    it(`${name}: idle timeouts at least twice the default heartbeat, and the no-delay option`, () => {
      const block = documentedConfig(name);
      const timeouts = haproxyIdleTimeouts(block);
      assert.deepEqual([...timeouts.keys()].sort(), ['client', 'server', 'tunnel']);
      for (const [timeout, ms] of timeouts) {
        assert.ok(ms >= 2 * DOCUMENTED_HEARTBEAT_MS, `timeout ${timeout} is ${ms} ms`);
      }
      assert.match(block, /^\s*option http-no-delay\b/m);
    });

    it(`${name}: rendering changes only the bind address, the servers and (asked to) the timeouts`, () => {
      const block = documentedConfig(name);
      const rendered = haproxyConfig(block, { port: 7000, upstreams: UPSTREAMS, timeoutScale: 0.02 });
      const kept = significant(rendered).filter(
        (line) => !/^(global|maxconn|bind|server|timeout (client|server|tunnel))\b/.test(line),
      );
      const original = significant(block).filter(
        (line) => !/^(bind|server|timeout (client|server|tunnel))\b/.test(line),
      );
      assert.deepEqual(kept, original);
      assert.match(rendered, /^\s*bind 127\.0\.0\.1:7000$/m);
      assert.match(rendered, /^\s*server alpha 127\.0\.0\.1:5001 check/m);
      assert.match(rendered, /^\s*server beta 127\.0\.0\.1:5002 check/m);
      assert.match(rendered, /^\s*timeout server 1200ms/m);
      if (name === 'haproxy-jsessionid')
        assert.match(rendered, /server beta 127\.0\.0\.1:5002 .* cookie beta$/m);
    });
  }

  it('nginx: idle timeouts at least twice the default heartbeat, no buffering, WebSocket headers', () => {
    const block = documentedConfig('nginx');
    const timeouts = nginxIdleTimeouts(block);
    assert.deepEqual([...timeouts.keys()].sort(), ['proxy_read_timeout', 'proxy_send_timeout']);
    for (const [directive, ms] of timeouts)
      assert.ok(ms >= 2 * DOCUMENTED_HEARTBEAT_MS, `${directive} is ${ms} ms`);
    assert.match(block, /proxy_buffering off;/);
    assert.match(block, /proxy_http_version 1\.1;/);
    assert.match(block, /proxy_set_header Upgrade \$http_upgrade;/);
  });

  it('nginx: rendering keeps the block and puts everything nginx writes in the scratch directory', () => {
    const block = documentedConfig('nginx');
    const rendered = nginxConfig(block, { port: 7000, upstreams: UPSTREAMS, dir: '/tmp/scratch' });
    assert.match(rendered, /^\s*listen 127\.0\.0\.1:7000;$/m);
    assert.match(rendered, /^\s*server 127\.0\.0\.1:5001 max_fails/m);
    assert.match(rendered, /^\s*server 127\.0\.0\.1:5002 max_fails/m);
    for (const line of rendered.split('\n')) {
      const path = /^\s*(?:pid|error_log|\w+_temp_path)\s+(\S+?);?(?:\s|$)/.exec(line);
      if (path !== null) assert.ok(path[1].startsWith('/tmp/scratch/'), line);
    }
    assert.match(rendered, /^daemon off;$/m);
  });
});
