export * from './constants';
export * from './wire-contract';
export * from './errors';
export * from './frame';
export * from './payload';
export { DEFAULT_WS_MESSAGE_LIMIT_BYTES, messageTooBigReason, messageTooBigReasonFrom, WS_CLOSE_MESSAGE_TOO_BIG } from './ws-limit';
export { BodyLengthGuard, declaredBodyLength } from './body-length';
export { createBufferBudget, type BufferBudget, type BufferHold } from './buffer-budget';
export { Stream } from './stream';
export { Connection, type ConnectionOptions } from './connection';
export * from './control';
export * from './address-rules';
export * from './allowed-emails';
export { parseIceServers, parseP2PSettings, SPEED_SWITCHES, type IceServer, type P2PSettings, type SpeedSwitch } from './p2p-settings';
export * from './session-name';
export * from './viewer-control';
export { connectionOverWebSocket, WEBSOCKET_ACCEPT_MESSAGE_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES } from './transports/websocket';
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
export { withListedFormatsOnly } from './offer-formats';
export { holdMessages, replayingChannel, type ChannelInbox } from './transports/channel-inbox';
export { readyConnection } from './transports/ready-connection';
export {
  echoLossProbes,
  LOSS_PROBE_COUNT,
  LOSS_PROBE_INIT,
  LOSS_PROBE_LABEL,
  runLossProbe,
  type LossProbeOptions,
  type LossProbeResult,
} from './transports/loss-probe';
export * from './error-registry';
export { backoffDelay } from './backoff';
export { concatBytes } from './bytes';
export { escapeHtml } from './html-escape';
export { ChannelLiveness, startHeartbeat, type HeartbeatOptions } from './heartbeat';
export { peerGone } from './peer-gone';
export { toBase64url } from './trust/base64url';
export { LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, linkDigestBytes } from './trust/link-access';
export { generateLinkKey, LINK_KEY_PATTERN, linkKeyBytes, linkWithKey, sessionIdOfHost, splitLinkKey } from './trust/link-key';
export { deriveTrustKeys, isMacedType, signalMac, signalMacValid, type MacedSignal, type TrustKeys } from './trust/signal-mac';
export {
  BindingError,
  bindDataChannel,
  bindingProof,
  fingerprintOfDigest,
  sdpFingerprint,
  shortFingerprint,
  type ChannelFingerprints,
} from './trust/channel-binding';
