import { ResponseReceiver, type ResponseFormat } from './response-receiver';
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
};

/** 2 KiB of `h` first: some browsers and proxies deliver nothing of a stream before that. */
const XHR_STREAMING_PRELUDE = 'h'.repeat(2048) + '\n';

export const xhrStreamingFormat: ResponseFormat = {
  protocol: 'xhr-streaming',
  contentType: JAVASCRIPT,
  cors: true,
  prelude: () => XHR_STREAMING_PRELUDE,
  frame: lineFrame,
};

/** `POST BASE/S/I/xhr`: one frame per response. */
export function xhrPolling(request: SessionRequest): void {
  const { service, req, res } = request;
  service.setCookie(req, res);
  const receiver = new ResponseReceiver(req, res, xhrPollingFormat, 1, service.options.disableCors);
  service.receive(request.sessionId, request.prefix, receiver);
}

/** `POST BASE/S/I/xhr_streaming`: frames until `responseLimit` bytes. */
export function xhrStreaming(request: SessionRequest): void {
  const { service, req, res } = request;
  service.setCookie(req, res);
  const receiver = new ResponseReceiver(
    req,
    res,
    xhrStreamingFormat,
    service.options.responseLimit,
    service.options.disableCors,
  );
  receiver.open();
  service.receive(request.sessionId, request.prefix, receiver);
}
