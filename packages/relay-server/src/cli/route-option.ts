/** `--route <prefix=target>` and the config file's `routes` (forward/routes.ts), each target read as the main one is (target-option.ts). */
import { MAX_ROUTES, routePrefixProblem, type RouteSpec } from '../forward';
import { parseTarget, resolveTarget, type TargetFlags } from './target-option';
import { UsageError } from './usage-error';

function parseRoute(text: string, tls: TargetFlags): RouteSpec {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UsageError(`invalid --route "${text}": expected <prefix>=<target>, e.g. /api=8000`);
  // `/api/` and `/api` mount the same thing.
  const prefix = text
    .slice(0, eq)
    .trim()
    .replace(/(.)\/+$/, '$1');
  const problem = routePrefixProblem(prefix);
  if (problem) throw new UsageError(`invalid --route "${text}": prefix ${JSON.stringify(prefix)}: ${problem}`);
  const targetText = text.slice(eq + 1);
  try {
    // The tunnel's TLS flags are about its https targets: an http route beside them takes none.
    return { prefix, target: resolveTarget(targetText, parseTarget(targetText).scheme === 'https' ? tls : {}) };
  } catch (err) {
    throw new UsageError(`invalid --route "${text}": ${(err as Error).message}`);
  }
}

/** The routes of `--route` flags, each prefix once. */
export function resolveRoutes(texts: readonly string[], tls: TargetFlags): RouteSpec[] {
  if (texts.length > MAX_ROUTES) throw new UsageError(`invalid --route: ${texts.length} routes, at most ${MAX_ROUTES}`);
  const routes = texts.map((t) => parseRoute(t, tls));
  const twice = routes.find((r, i) => routes.findIndex((o) => o.prefix === r.prefix) < i);
  if (twice) throw new UsageError(`invalid --route: ${twice.prefix} is mounted twice`);
  return routes;
}
