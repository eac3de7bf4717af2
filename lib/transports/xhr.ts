import type { ResponseFormat } from './response-receiver';
import { receive } from './receive';
import type { SessionRequest } from './context';

const JAVASCRIPT = 'application/javascript; charset=UTF-8';

function lineFrame(frame: string): string {
  return frame + '\n';
}

export const xhrPollingFormat: ResponseFormat = {
  protocol: 'xhr-polling',
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
  contentType: JAVASCRIPT,
  cors: true,
  prelude: () => XHR_STREAMING_PRELUDE,
  frame: lineFrame,
  plainSuffix: '\n',
};

/** `POST BASE/S/I/xhr`: one frame per response. */
export function xhrPolling(request: SessionRequest): void {
  receive(request, xhrPollingFormat, false);
}

/** `POST BASE/S/I/xhr_streaming`: frames until `responseLimit` bytes. */
export function xhrStreaming(request: SessionRequest): void {
  receive(request, xhrStreamingFormat, true);
}
