import { messageFrame } from './frames';

/** How a receiver turns a shared message into what it writes; one function per encoding. */
export type SharedEncoding<T> = (message: SharedMessage) => T;

/**
 * One message written to many connections at once (a broker's publish). A session that
 * sends it alone in a frame hands it to its receiver as it is, and each encoding of it
 * (the `a[...]` frame, a websocket frame's bytes) is made once, for the first connection
 * that needs it, and shared by all the others.
 */
export class SharedMessage {
  /** UTF-8 size of `text`. */
  readonly bytes: number;
  #frame: string | undefined;
  readonly #encodings = new Map<SharedEncoding<unknown>, unknown>();

  constructor(readonly text: string) {
    this.bytes = Buffer.byteLength(text);
  }

  /** `a["..."]`: the SockJS frame carrying this message alone. */
  get frame(): string {
    return (this.#frame ??= messageFrame([this.text]));
  }

  /** What `encoding` makes of this message, made on first use. */
  encoded<T>(encoding: SharedEncoding<T>): T {
    // One lookup per connection; a value of undefined is merely made again each time.
    const made = this.#encodings.get(encoding);
    if (made !== undefined) return made as T;
    const value = encoding(this);
    this.#encodings.set(encoding, value);
    return value;
  }
}
