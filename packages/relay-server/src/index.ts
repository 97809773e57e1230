/** Public API of the Wingman agent package. */
export {
  createForwarder,
  formatHostPort,
  TRANSPORT_HEADER,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  type Forwarder,
  type ForwarderOptions,
  type HostHeaderMode,
  type RequestLogEntry,
  type Target,
  type TransportName,
} from './forward';
export {
  createAgent,
  agentUrl,
  backoffDelay,
  createFileResumeStore,
  createMemoryResumeStore,
  defaultStateDir,
  resumeKey,
  type Agent,
  type AgentEvents,
  type AgentOptions,
  type AttemptFailure,
  type BackoffOptions,
  type ReadyEvent,
  type ResumeState,
  type ResumeStore,
} from './agent';
export { main, type CliIo } from './cli';
export { parseTarget, resolveHttpConfig, DEFAULT_SERVER, DEFAULT_TOKEN, UsageError, type HttpConfig } from './cli/options';
export { VERSION } from './version';
