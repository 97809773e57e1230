/** `wingman` command line: argv and environment in, agent events out. Only wiring: validation lives in cli/options.ts, output in cli/reporter.ts. */
import { Command, CommanderError } from 'commander';
import { targetOrigin } from './forward';
import { httpOptions, type HttpCommandFlags } from './cli/http-options';
import type { ViewerRoster } from './viewers/viewer-roster';
import { forwardSettings, runTunnel, startInspector } from './cli/run-tunnel';
import { PASSWORD_ARGV_WARNING, resolveHttpConfig, UsageError, type HttpConfig } from './cli/options';
import { runFetch, type FetchFlags } from './cli/fetch';
import { EXIT_USAGE } from './cli/exit-codes';
import { loadStartConfig, type StartFlags } from './cli/start/config-file';
import { runStart } from './cli/start/run-start';
import { createReporter } from './cli/reporter';
import type { CliIo } from './cli/cli-io';
import { createTerminalView } from './cli/terminal-view';
import { VERSION } from './version';

/** Resolves with the exit code (cli/exit-codes.ts). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let run: Promise<number> | undefined;
  const program = new Command()
    .name('wingman')
    .description('Share a local dev server through a link.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });

  const http = program
    .command('http')
    .description('expose a local HTTP port (WebSockets included) through the tunnel server')
    .argument('<target>', 'local port, host:port (host defaults to localhost), or an http(s) URL such as https://localhost:8443');
  for (const option of httpOptions()) http.addOption(option);
  http.action((target: string, flags: HttpCommandFlags) => {
    const extra = http.args.slice(1);
    if (extra.length > 0)
      throw new UsageError(`one target per \`wingman http\`, and ${extra.map((a) => `"${a}"`).join(', ')} is extra: ${SEVERAL_TUNNELS_HINT}`);
    const config = resolveHttpConfig(target, flags, io.env);
    if (flags.password !== undefined) io.stderr.write(`${PASSWORD_ARGV_WARNING}\n`);
    run = runHttp(config, io);
  });

  program
    .command('start')
    .description('start every tunnel named in a config file (default ./wingman.json), one URL each, one inspector for all')
    .option('--config <file>', 'the config file (docs/cli.md "Several tunnels")')
    .option('--json', 'one JSON object per line; one {"event":"ready","tunnel":<name>,"url":...} per tunnel')
    .option('--new-session', "do not resume the tunnels' previous sessions (new URLs)")
    .action((flags: StartFlags) => {
      const { path, tunnels } = loadStartConfig(flags, process.cwd(), io.env);
      run = runStart(path, tunnels, io);
    });

  program
    .command('fetch')
    .description('fetch a session URL as a reviewer would (P2P when possible, relay otherwise) and say which path served it')
    .argument('<url>', 'a session URL, e.g. http://<id>.localhost:8080/path')
    .option('--p2p-only', 'fail instead of falling back to the relay')
    .option('--relay-only', 'skip P2P')
    .option('--timeout <ms>', 'P2P connect deadline before falling back (default 5000)')
    .option('--password <password>', "the session's viewer password (or put it in the URL: http://:PASSWORD@<id>.…)")
    .option(
      '--proxy <url>',
      "reach the server through this proxy, as `wingman http --proxy` (default: HTTPS_PROXY, http_proxy, ALL_PROXY minus NO_PROXY); '' for none",
    )
    .action((url: string, flags: FetchFlags) => {
      run = runFetch(url, flags, { stdout: io.stdout as never, stderr: io.stderr, env: io.env }, { keepPeer: io.exitNow !== undefined }).then((code) => {
        io.exitNow?.(code);
        return code;
      });
    });

  try {
    await program.parseAsync(argv, { from: 'node' });
    // A command's own UsageError (`wingman fetch` checks its URL and --timeout) is answered as the options' are.
    return await (run ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      const hint = err.code === 'commander.unknownCommand' ? unknownCommandHint(argv.slice(2)) : undefined;
      if (hint) io.stderr.write(`${hint}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** `wingman http 3000 4000`: one tunnel per port is `wingman start`'s job. */
const SEVERAL_TUNNELS_HINT = 'to share several ports, name each in a wingman.json and run `wingman start` (`wingman start --help`)';

/** A port or host:port where a command was expected: `wingman 3000` meant `wingman http 3000`. */
const TARGET_LIKE = /^([A-Za-z0-9.-]+:)?[0-9]{1,5}$/;

/** After commander's "unknown command" for a target given without `http`. */
function unknownCommandHint(args: string[]): string | undefined {
  const first = args.find((a) => !a.startsWith('-'));
  if (first === undefined || !TARGET_LIKE.test(first)) return undefined;
  // Only the target is echoed: the other arguments may hold a --password.
  const several = args.filter((a) => TARGET_LIKE.test(a)).length > 1;
  return `did you mean \`wingman http ${first}\`?${several ? ` One port per \`wingman http\`; ${SEVERAL_TUNNELS_HINT}` : ''}`;
}

async function runHttp(config: HttpConfig, io: CliIo): Promise<number> {
  const view =
    io.stdout.isTTY === true && !config.json && config.tui
      ? createTerminalView({ stdout: io.stdout, target: targetOrigin(config.target), qr: config.qr })
      : undefined;
  const reporter = view ?? createReporter({ json: config.json, stdout: io.stdout, stderr: io.stderr, qr: config.qr });
  const inspector = await startInspector(config.inspect, reporter, '--inspect <port>');
  if (inspector) view?.attachStore(inspector.store);
  if (config.approve && !inspector && !(view && io.stdin?.isTTY)) {
    reporter.warning(
      'WARN_APPROVE_UNREACHABLE',
      `with --approve, viewers wait until you admit them, and with neither the inspector nor the terminal view on, nothing here can admit them: every viewer will wait. ${
        config.inspect ? 'Fix what kept the inspector off (the warning above)' : 'Drop --inspect false'
      }, or run in a terminal (keys a/d)`,
    );
  }
  const code = await runTunnel({
    config,
    reporter,
    env: io.env,
    signal: io.signal ?? new AbortController().signal,
    ...(inspector ? { inspector: { tunnel: inspector.addTunnel(undefined, forwardSettings(config)), url: inspector.url } } : {}),
    ...(view ? { onRtt: view.rtt, onViewers: (roster: ViewerRoster) => view.attachViewers(roster, io.stdin) } : {}),
    fatalHint: (e) =>
      e.code === 'ERR_TOKEN_REFUSED'
        ? ' (check --token or WINGMAN_TOKEN)'
        : config.password !== undefined && /viewerPassword/.test(e.message)
          ? ' (this tunnel server is too old for --password)'
          : config.expiresInMs !== undefined && /expiresInMs/.test(e.message)
            ? ' (this tunnel server is too old for --expires)'
            : config.name !== undefined && /unknown field "name"/.test(e.message)
              ? ' (this tunnel server is too old for --name)'
              : '',
  });
  view?.dispose();
  await inspector?.close();
  return code;
}
