/**
 * The balancer configurations of docs/deployment.md, made runnable: a block is found by the
 * `<!-- config: NAME -->` comment before it, and only its listening address, its `server`
 * lines and (on request) its idle timeouts are changed. The cluster demo and the tests run
 * exactly what the documentation shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** docs/deployment.md (this file runs from build/scripts/cluster/). */
export const DEPLOYMENT_DOC = join(__dirname, '..', '..', '..', 'docs', 'deployment.md');

/** The heartbeat the documented timeouts are chosen for (the library's default). */
export const DOCUMENTED_HEARTBEAT_MS = 25_000;

/** One process behind the balancer. */
export interface Upstream {
  readonly name: string;
  readonly port: number;
}

export interface RenderOptions {
  /** Port the balancer listens on, on 127.0.0.1. */
  readonly port: number;
  readonly upstreams: readonly Upstream[];
  /**
   * Multiplies the idle timeouts (HAProxy `timeout client|server|tunnel`, nginx
   * `proxy_read_timeout`, `proxy_send_timeout`): tests run with short heartbeats.
   * @default 1
   */
  readonly timeoutScale?: number;
}

/** The text of the fenced block after `<!-- config: name -->` in a markdown document. */
export function configBlock(markdown: string, name: string): string {
  const marker = `<!-- config: ${name} -->`;
  const start = markdown.indexOf(marker);
  if (start === -1) throw new Error(`no "${marker}" in the deployment documentation`);
  const fence = /```[a-z]*\n([\s\S]*?)\n```/.exec(markdown.slice(start + marker.length));
  if (fence === null) throw new Error(`no fenced block after "${marker}"`);
  return fence[1];
}

/** The block named `name` of docs/deployment.md. */
export function documentedConfig(name: string): string {
  return configBlock(readFileSync(DEPLOYMENT_DOC, 'utf8'), name);
}

/** `60s`, `1h`, `500ms`, `5` (seconds for nginx, ms for HAProxy: callers pass the unit). */
export function parseDuration(text: string, bareUnitMs: number): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (match === null) throw new Error(`not a duration: ${text}`);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (match[2] === undefined ? bareUnitMs : units[match[2]]);
}

function scaled(text: string, scale: number, bareUnitMs: number): string {
  return `${Math.max(1, Math.round(parseDuration(text, bareUnitMs) * scale))}ms`;
}

/** The idle timeouts of an HAProxy configuration, in ms, by name. */
export function haproxyIdleTimeouts(config: string): Map<string, number> {
  const timeouts = new Map<string, number>();
  for (const match of config.matchAll(/^\s*timeout\s+(client|server|tunnel)\s+(\S+)/gm)) {
    timeouts.set(match[1], parseDuration(match[2], 1));
  }
  return timeouts;
}

/** The idle timeouts of an nginx configuration, in ms, by directive. */
export function nginxIdleTimeouts(config: string): Map<string, number> {
  const timeouts = new Map<string, number>();
  for (const match of config.matchAll(/^\s*(proxy_read_timeout|proxy_send_timeout)\s+([^;\s]+);/gm)) {
    timeouts.set(match[1], parseDuration(match[2], 1000));
  }
  return timeouts;
}

/**
 * An HAProxy configuration: a minimal `global` section, then the documented block with its
 * `bind` on 127.0.0.1 and, in each backend, one `server` line per upstream, made from the
 * block's first one (name, address and cookie value replaced).
 */
export function haproxyConfig(block: string, options: RenderOptions): string {
  const scale = options.timeoutScale ?? 1;
  const out: string[] = ['global', '    maxconn 4096', ''];
  let serversWritten = false;
  for (const line of block.split('\n')) {
    if (/^\S/.test(line)) serversWritten = false;
    const bind = /^(\s*)bind\s+\S+(.*)$/.exec(line);
    if (bind !== null) {
      out.push(`${bind[1]}bind 127.0.0.1:${options.port}${bind[2]}`);
      continue;
    }
    const server = /^(\s*)server\s+(\S+)\s+\S+(.*)$/.exec(line);
    if (server !== null) {
      if (serversWritten) continue;
      serversWritten = true;
      for (const upstream of options.upstreams) {
        const rest = server[3].replace(new RegExp(`\\bcookie\\s+${server[2]}\\b`), `cookie ${upstream.name}`);
        out.push(`${server[1]}server ${upstream.name} 127.0.0.1:${upstream.port}${rest}`);
      }
      continue;
    }
    const timeout = /^(\s*)timeout\s+(client|server|tunnel)\s+(\S+)(.*)$/.exec(line);
    if (timeout !== null && scale !== 1) {
      out.push(`${timeout[1]}timeout ${timeout[2]} ${scaled(timeout[3], scale, 1)}${timeout[4]}`);
      continue;
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}

/** Where a private nginx keeps its pid, logs and temporary files. */
export interface NginxPaths {
  /** An empty directory of the caller's (a temporary one). */
  readonly dir: string;
}

/**
 * A complete nginx configuration for a private nginx in the foreground (`nginx -p dir -c
 * file`): everything it writes goes to `dir`, and the documented block sits in `http { }`
 * with its `listen` on 127.0.0.1 and one `server` line per upstream in each `upstream`.
 */
export function nginxConfig(block: string, options: RenderOptions & NginxPaths): string {
  const scale = options.timeoutScale ?? 1;
  const body: string[] = [];
  let inUpstream = false;
  let serversWritten = false;
  for (const line of block.split('\n')) {
    if (/^\s*upstream\s/.test(line)) {
      inUpstream = true;
      serversWritten = false;
    } else if (/^}/.test(line)) {
      inUpstream = false;
    }
    const listen = /^(\s*)listen\s+[^;\s]+(.*)$/.exec(line);
    if (listen !== null) {
      body.push(`${listen[1]}listen 127.0.0.1:${options.port}${listen[2]}`);
      continue;
    }
    const server = /^(\s*)server\s+[^;\s]+(.*)$/.exec(line);
    if (inUpstream && server !== null) {
      if (serversWritten) continue;
      serversWritten = true;
      for (const upstream of options.upstreams)
        body.push(`${server[1]}server 127.0.0.1:${upstream.port}${server[2]}`);
      continue;
    }
    const timeout = /^(\s*)(proxy_read_timeout|proxy_send_timeout)\s+([^;\s]+);(.*)$/.exec(line);
    if (timeout !== null && scale !== 1) {
      body.push(`${timeout[1]}${timeout[2]} ${scaled(timeout[3], scale, 1000)};${timeout[4]}`);
      continue;
    }
    body.push(line);
  }
  const dir = options.dir;
  return [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '    access_log off;',
    `    client_body_temp_path ${join(dir, 'client_body')};`,
    `    proxy_temp_path ${join(dir, 'proxy')};`,
    `    fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `    uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `    scgi_temp_path ${join(dir, 'scgi')};`,
    ...body.map((line) => (line === '' ? '' : '    ' + line)),
    '}',
    '',
  ].join('\n');
}
