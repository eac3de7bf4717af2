import { createHash } from 'node:crypto';

/** Escapes a value for a double-quoted HTML attribute. */
function escapeAttribute(value: string): string {
  return value.replace(/[&"<>']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The iframe page (PROTOCOL.md section 1) that iframe-based transports load. */
export function iframePage(sockjsUrl: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="${escapeAttribute(sockjsUrl)}"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`;
}

/** A strong ETag: the same content always gives the same tag. */
export function strongEtag(content: string): string {
  return '"' + createHash('sha1').update(content).digest('base64url') + '"';
}

const HTMLFILE_HEAD = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.CALLBACK;
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>
`;

/**
 * The htmlfile prelude for one callback name (already validated as [a-zA-Z0-9_.-]{1,32}).
 * Padded past 1 KiB because some browsers render nothing of a page before that.
 */
export function htmlfilePrelude(callback: string): string {
  const head = HTMLFILE_HEAD.replace('CALLBACK', callback);
  return head + ' '.repeat(Math.max(0, 1025 - head.length)) + '\r\n\r\n';
}
