export * from './constants';
export * from './errors';
export * from './frame';
export * from './payload';
export { Emitter } from './emitter';
export { Stream, type StreamEvents, type StreamKind } from './stream';
export { Connection, type ConnectionEvents, type ConnectionOptions, type Transport } from './connection';
export * from './control';
export { connectionOverWebSocket, type NodeWebSocketLike, WEBSOCKET_MAX_MESSAGE_BYTES } from './transports/websocket';
