import { existsSync } from 'node:fs';
import type { ConnectionProtocol } from '../../lib';

/** Debian's Chromium; the browser tests never download one. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, and quiet on the network: without the background-networking flags Chromium
 * keeps trying hosts this machine cannot reach.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests are skipped, or undefined when Chromium is there to run them. */
export const CHROMIUM_SKIP_REASON = existsSync(CHROMIUM)
  ? undefined
  : `Chromium is not installed (${CHROMIUM}), so the browser tests are skipped: apt-get install chromium`;

/** Every transport sockjs-client 1.x offers in a browser, and what the server sees of it. */
export const BROWSER_TRANSPORTS = {
  websocket: 'websocket',
  'xhr-streaming': 'xhr-streaming',
  'xhr-polling': 'xhr-polling',
  eventsource: 'eventsource',
  'iframe-eventsource': 'eventsource',
  'iframe-htmlfile': 'htmlfile',
  'iframe-xhr-polling': 'xhr-polling',
  'jsonp-polling': 'jsonp-polling',
} as const satisfies Record<string, ConnectionProtocol>;
