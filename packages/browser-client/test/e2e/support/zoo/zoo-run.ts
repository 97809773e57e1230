/**
 * One zoo case: an app on a loopback port, shared with `wingman http`, and
 * the same requests made by a page straight on the app and by the app's
 * frame in the session's shell (over P2P, or over the Service Worker's
 * relay in a browser without WebRTC). What the agent's P2P host did
 * meanwhile is read from the agent (p2pHostEndings, its peer events and child processes).
 *
 * The tunnel server runs with the path choice off (`P2P_PATH_CHOICE=false`): with a channel
 * open every request takes it, so the P2P case carries each request over the channel whatever
 * the machine's load. On, a body of a `.bin` URL is bulk, and while the channel's bulk rate
 * measures under 4 MB/s (a loaded machine) the next bulk requests go to the relay to measure
 * it. The path choice has tests of its own (path-choice.test.ts, route-decision.test.ts).
 */
import { childPids, killAll, p2pHostEndings, p2pHostOf, startAgent, startServer, type Proc } from '../../../../../../test/helpers/processes';
import type { LaunchedChromium } from '../../helpers/browser';
import { waitForApp, waitForTransport } from '../shell';
import { pageFetches, type PageOutcome, type ZooRequest } from './page-fetches';

/** The tunnel server's settings for every zoo case: the path choice off (above). */
const ZOO_SERVER_ENV = { LOG_LEVEL: 'warn', P2P_PATH_CHOICE: 'false' };

export interface SharedApp {
  agent: Proc;
  /** The session's origin: http://<id>.localhost:<port> */
  origin: string;
}

/** `wingman http <port> [agentArgs]` on the tunnel server at `serverPort` (public: opened by its host name). */
async function shareOn(serverPort: number, port: number, agentArgs: string[]): Promise<SharedApp> {
  const { agent, sessionId } = await startAgent(`http://localhost:${serverPort}`, String(port), {}, agentArgs);
  return { agent, origin: `http://${sessionId}.localhost:${serverPort}` };
}

/** A tunnel server and `wingman http <port> [agentArgs]` (public: opened by its host name). */
export async function shareApp(port: number, agentArgs: string[] = []): Promise<SharedApp> {
  const { port: serverPort } = await startServer(ZOO_SERVER_ENV);
  return shareOn(serverPort, port, agentArgs);
}

/** The tunnel server of a file of zoo cases, and how each case shares its app on it. */
export interface ZooServer {
  /** `wingman http <port> [agentArgs]` on the file's tunnel server. */
  share(port: number, agentArgs?: string[]): Promise<SharedApp>;
  /** Ends what the case started (its agents, its app's processes), leaving the tunnel server to the next case: a case's afterAll. */
  endCase(): Promise<void>;
}

/** One tunnel server for the whole file, started in its beforeAll and ended in its afterAll (call at the file's top level). */
export function useZooServer(): ZooServer {
  let server: Proc | undefined;
  let serverPort = 0;
  beforeAll(async () => {
    ({ server, port: serverPort } = await startServer(ZOO_SERVER_ENV));
  });
  afterAll(async () => {
    await server?.kill();
  });
  return {
    share: (port, agentArgs = []) => shareOn(serverPort, port, agentArgs),
    endCase: () => killAll(server ? [server] : []),
  };
}

/**
 * The requests made by the page at `url`, a document with no shell: straight
 * on the app, or a session shared with `--no-p2p` (the plain relay).
 */
export async function pageRun(browser: LaunchedChromium, url: string, requests: ZooRequest[]): Promise<PageOutcome[]> {
  await browser.page.goto(url);
  return pageFetches(browser.page, requests);
}

/** What a page made in the session's shell: each request's outcome, and the viewer id of the shell's P2P channel. */
export interface ShellRun {
  outcomes: PageOutcome[];
  /** The shell's viewer id once it was on P2P (see p2pHostFate); undefined on the relay. */
  viewerId: string | undefined;
}

/** The requests made by the app's frame in the session's shell, once the shell is on `transport`. */
export async function shellRun(
  browser: LaunchedChromium,
  shared: SharedApp,
  page: string,
  pageName: string,
  transport: 'p2p' | 'relay',
  requests: ZooRequest[],
): Promise<ShellRun> {
  await browser.page.goto(`${shared.origin}${page}`);
  const frame = await waitForApp(browser.page, pageName);
  const { viewerId } = await waitForTransport(browser.page, transport);
  return { outcomes: await pageFetches(frame, requests), viewerId };
}

/**
 * How the agent's P2P host fared from the one carrying the page's channel (`carrier`, the shell's viewer id once it
 * was on P2P) on: every sign that a host ended (a host that carried a viewer and is no longer the agent's child
 * among them), and how many host processes carried viewers since (1: the page's, alive). The spare started for the
 * next viewer carried none and is not counted; nor is an attempt the page gave up before (its host retired alive):
 * a test of what happens while the page is on P2P does not ask about those.
 */
export async function p2pHostFate(agent: Proc, carrier: string | undefined): Promise<{ endings: string[]; hosts: number }> {
  await p2pHostOf(agent, carrier);
  const connected = agent.events.filter((e) => e.event === 'peer' && e.state === 'connected');
  const counted = connected.slice(connected.findIndex((e) => e.viewerId === carrier));
  const carried = new Set(counted.map((e) => e.hostPid));
  const alive = childPids(agent.child.pid!);
  const gone = [...carried].filter((pid) => !alive.includes(pid as number)).map((pid) => `host process ${String(pid)} is gone`);
  return { endings: [...p2pHostEndings(agent), ...gone], hosts: carried.size };
}
