/**
 * `wingman start`: every tunnel of the config file in one process, one
 * inspector for all. A tunnel that ends is reported and the others go on; the
 * exit code is 0 when each ended on purpose, else the first failing one's.
 */
import type { CliIo } from '../cli-io';
import { createReporter } from '../reporter';
import { EXIT_OK } from '../exit-codes';
import type { NamedTunnelConfig } from './config-file';
import { forwardSettings, runTunnel, startInspector } from '../run-tunnel';

export async function runStart(file: string, tunnels: NamedTunnelConfig[], io: CliIo): Promise<number> {
  const first = tunnels[0]!.config;
  const json = first.json;
  const main = createReporter({ json, stdout: io.stdout, stderr: io.stderr });
  const inspector = await startInspector(first.inspect, main, `"inspect": <port> in ${file}`);
  if (!json)
    io.stdout.write(`\nWingman: ${tunnels.length} tunnel(s) from ${file}\n${inspector ? `inspect requests at ${inspector.url}\n` : ''}Ctrl+C to stop.\n\n`);

  const tunnelWidth = Math.max(...tunnels.map((t) => t.name.length));
  const signal = io.signal ?? new AbortController().signal;
  const codes = await Promise.all(
    tunnels.map(({ name, config }) =>
      runTunnel({
        config,
        env: io.env,
        signal,
        reporter: createReporter({ json, stdout: io.stdout, stderr: io.stderr, tunnel: name, tunnelWidth }),
        ...(inspector ? { inspector: { url: inspector.url, tunnel: inspector.addTunnel(name, forwardSettings(config)) } } : {}),
      }),
    ),
  );
  await inspector?.close();
  return codes.find((c) => c !== EXIT_OK) ?? EXIT_OK;
}
