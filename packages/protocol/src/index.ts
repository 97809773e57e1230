export * from './constants';
export * from './wire-contract';
export * from './errors';
export * from './frame';
export * from './payload';
export { DEFAULT_WS_MESSAGE_LIMIT_BYTES, messageTooBigReason, messageTooBigReasonFrom, WS_CLOSE_MESSAGE_TOO_BIG } from './ws-limit';
export { BodyLengthGuard, declaredBodyLength, type BodyChunkVerdict } from './body-length';
export { Emitter } from './emitter';
export { createBufferBudget, type BufferBudget, type BufferHold } from './buffer-budget';
export { Stream, type StreamEvents, type StreamKind } from './stream';
export { Connection, type ConnectionEvents, type ConnectionOptions, type Transport } from './connection';
export * from './control';
export * from './address-rules';
export * from './allowed-emails';
export { parseIceServers, parseP2PSettings, SPEED_SWITCHES, type IceServer, type P2PSettings, type SpeedSwitch } from './p2p-settings';
export * from './session-name';
export * from './viewer-control';
export { connectionOverWebSocket, type NodeWebSocketLike, WEBSOCKET_ACCEPT_MESSAGE_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES } from './transports/websocket';
export * from './signaling';
export {
  announceMaxMessageSize,
  connectionOverDataChannel,
  dataChannelMessageBytes,
  type DataChannelLike,
  DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
  DATA_CHANNEL_DRAIN_POLL_MS,
  DATA_CHANNEL_HIGH_WATER_BYTES,
  DATA_CHANNEL_MAX_MESSAGE_BYTES,
  maxMessageSizeFromSdp,
  SDP_DEFAULT_MAX_MESSAGE_BYTES,
} from './transports/data-channel';
export { channelView } from './transports/channel-view';
export { withListedFormatsOnly } from './offer-formats';
export { CHANNEL_INBOX_MAX, holdMessages, replayingChannel, type ChannelInbox, type HoldableChannel } from './transports/channel-inbox';
export { readyConnection, type ReadyConnectionOptions } from './transports/ready-connection';
export {
  echoLossProbes,
  LOSS_PROBE_BYTES,
  LOSS_PROBE_CHANNEL_ID,
  LOSS_PROBE_COUNT,
  LOSS_PROBE_EARLY_CLEAN,
  LOSS_PROBE_INIT,
  LOSS_PROBE_LABEL,
  LOSS_PROBE_LOSSY_MIN,
  LossTally,
  runLossProbe,
  type LossProbeOptions,
  type LossProbeResult,
} from './transports/loss-probe';
export * from './error-registry';
export { backoffDelay, type BackoffPolicy } from './backoff';
export { concatBytes } from './bytes';
export { escapeHtml } from './html-escape';
export { ChannelLiveness, LIVENESS_MIN_DRAIN_BYTES, type LivenessSource } from './liveness';
export { startHeartbeat, type AbortSignalLike, type HeartbeatOptions, type HeartbeatTarget } from './heartbeat';
export { peerGone } from './peer-gone';
export { LINK_ACCESS_LABEL, LINK_DIGEST_PATTERN, LINK_PATH, LINK_TOKEN_HEADER, linkAccessToken, linkDigestBytes } from './trust/link-access';
export { generateLinkKey, LINK_KEY_BYTES, LINK_KEY_PARAM, LINK_KEY_PATTERN, linkKeyBytes, linkWithKey, sessionIdOfHost, splitLinkKey } from './trust/link-key';
export {
  deriveTrustKeys,
  isMacedType,
  SIGNAL_MAC_CHARS,
  signalMac,
  signalMacValid,
  TRUST_VERSION,
  type MacedSignal,
  type SignalSender,
  type TrustKeys,
} from './trust/signal-mac';
export {
  BINDING_TIMEOUT_MS,
  BindingError,
  bindDataChannel,
  bindingProof,
  fingerprintOfDigest,
  sdpFingerprint,
  shortFingerprint,
  type ChannelFingerprints,
} from './trust/channel-binding';
