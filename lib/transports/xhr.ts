import type { ResponseFormat } from './response-receiver';

const JAVASCRIPT = 'application/javascript; charset=UTF-8';

function lineFrame(frame: string): string {
  return frame + '\n';
}

export const xhrPollingFormat: ResponseFormat = {
  protocol: 'xhr-polling',
  streaming: false,
  takesCallback: false,
  contentType: JAVASCRIPT,
  cors: true,
  prelude: () => '',
  frame: lineFrame,
  plainSuffix: '\n',
};

/** 2 KiB of `h` first: some browsers and proxies deliver nothing of a stream before that. */
const XHR_STREAMING_PRELUDE = 'h'.repeat(2048) + '\n';

export const xhrStreamingFormat: ResponseFormat = {
  protocol: 'xhr-streaming',
  streaming: true,
  takesCallback: false,
  contentType: JAVASCRIPT,
  cors: true,
  prelude: () => XHR_STREAMING_PRELUDE,
  frame: lineFrame,
  plainSuffix: '\n',
};
