/**
 * Path mounts (`--route /api=8000`): several local apps under one link, as a
 * front end and its API share one origin in production. The longest prefix
 * the path starts with at a `/` boundary serves it, else the main target; the
 * path reaches the app unchanged, and each route has its own Host and address
 * mapping.
 */
import { z } from 'zod';
import { targetSchema } from './target';

/** One mount: requests under `prefix` (`/api`: no trailing `/`, query, fragment, dot segment or percent sign) go to `target`. */
export const routeSpecSchema = z.object({ prefix: z.string().refine((p) => routePrefixProblem(p) === undefined, 'not a route prefix'), target: targetSchema });

export type RouteSpec = z.infer<typeof routeSpecSchema>;

/** Most routes in one tunnel: a front end, its API, a socket server or two; past a handful it is a mistake. */
export const MAX_ROUTES = 16;

const PREFIX = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@.-]+)+$/;

/** Why `prefix` cannot be a route's, or undefined when it can. A trailing `/` is the caller's to strip. */
export function routePrefixProblem(prefix: string): string | undefined {
  if (prefix.length > 256) return 'longer than 256 characters';
  if (!PREFIX.test(prefix)) return "expected a path such as /api (letters, digits and -._~!$&'()*+,;=:@ between slashes)";
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) return 'no . or .. segments';
  return undefined;
}

/** The route that serves `requestTarget` (the longest matching prefix), or undefined for the main target. */
export function routeFor<R extends { prefix: string }>(requestTarget: string, routes: readonly R[]): R | undefined {
  // The request target's path (origin-form, without its query).
  const path = requestTarget.split(/[?#]/, 1)[0]!;
  let best: R | undefined;
  for (const route of routes) {
    const under = path === route.prefix || path.startsWith(`${route.prefix}/`);
    if (under && (best === undefined || route.prefix.length > best.prefix.length)) best = route;
  }
  return best;
}
