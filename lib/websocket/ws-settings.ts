/**
 * The build-time guard that keeps `WebsocketOptions` (declared in options.ts so that the
 * published types need no `@types/ws`) accepting exactly what ws's `ServerOptions` accept
 * for the same fields. When an upgrade of ws or its types changes one of them, the build
 * stops here. Nothing imports this module: it exists for the compiler.
 */
import type { ServerOptions } from 'ws';
import type { WebsocketOptions } from '../options';

/** `true` when A and B accept the same values, `false` otherwise. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Compiles only when T is `true`. */
type Holds<T extends true> = T;

/** ws's own types for the fields a service passes through. */
type WsSettings = Pick<ServerOptions, keyof WebsocketOptions>;

/** Fails to compile when the two drift apart. */
export type WebsocketOptionsMatchWs = Holds<Same<Required<WebsocketOptions>, Required<WsSettings>>>;
