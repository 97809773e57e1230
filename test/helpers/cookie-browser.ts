/**
 * A browser's HTTP for system tests, without a browser: a cookie jar (host-only
 * cookies by host name, Path and Max-Age honoured) and navigations that follow
 * redirects across origins, sending what a browser's top-level navigation
 * sends (Fetch Metadata). A page whose script posts its form as it loads (an
 * OpenID provider's form_post page, as oidc-provider answers an account
 * switch) is posted, as a browser running it does. Every host it is given
 * (localhost, *.localhost, 127.0.0.1) is reached on 127.0.0.1 with the URL's
 * port and Host header.
 */
import { request, type IncomingMessage } from 'node:http';
import { NAVIGATION_HEADERS } from './viewer-client';

export interface Page {
  url: string;
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

interface StoredCookie {
  value: string;
  path: string;
}

/** Most redirects one navigation follows (browsers: 20). */
const MAX_REDIRECTS = 20;

const HTML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
const unescapeHtml = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => HTML_ENTITIES[e]!);

/**
 * The form a page posts as it loads (a script that submits `document.forms[0]`
 * on load, as oidc-provider's form_post pages have): its action and hidden
 * fields; undefined for any other page.
 */
function autoPostedForm(page: Page): { action: string; body: string } | undefined {
  if (page.status !== 200 || !String(page.headers['content-type'] ?? '').startsWith('text/html')) return undefined;
  const html = page.body.toString('utf8');
  const form = /<form method="post" action="([^"]*)">/i.exec(html);
  if (!html.includes('document.forms[0].submit()') || !form) return undefined;
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\s*\/?>/g)) fields.append(unescapeHtml(m[1]!), unescapeHtml(m[2]!));
  return { action: new URL(unescapeHtml(form[1]!), page.url).href, body: fields.toString() };
}

export class CookieBrowser {
  /** Host name → cookie name → cookie. */
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  /** The cookies `url` would carry, as a Cookie header; undefined when none. */
  cookieHeader(url: URL): string | undefined {
    const cookies = this.jar.get(url.hostname);
    if (!cookies) return undefined;
    const pairs = [...cookies].filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    return pairs.length > 0 ? pairs.map(([name, c]) => `${name}=${c.value}`).join('; ') : undefined;
  }

  /** Drops every cookie of `hostname` (as a viewer clearing a site's data does). */
  forget(hostname: string): void {
    this.jar.delete(hostname);
  }

  /** One cookie's value on a host, or undefined. */
  cookie(hostname: string, name: string): string | undefined {
    return this.jar.get(hostname)?.get(name)?.value;
  }

  private store(url: URL, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let path = '/';
      let remove = false;
      for (const a of attributes) {
        const [k, v] = a.split('=') as [string, string | undefined];
        if (k.toLowerCase() === 'path' && v) path = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) remove = true;
        if (k.toLowerCase() === 'domain') throw new Error(`a cookie with a Domain attribute (${line}): the tests expect host-only cookies`);
      }
      let cookies = this.jar.get(url.hostname);
      if (!cookies) this.jar.set(url.hostname, (cookies = new Map()));
      if (remove) cookies.delete(name);
      else cookies.set(name, { value, path });
    }
  }

  /** One request, no redirect followed; its cookies are stored. */
  fetch(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Page> {
    const u = new URL(url);
    const cookie = this.cookieHeader(u);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(u.port || 80),
          method: opts.method ?? 'GET',
          path: `${u.pathname}${u.search}`,
          headers: { host: u.host, ...(cookie ? { cookie } : {}), ...opts.headers },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            this.store(u, res.headers['set-cookie']);
            resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** A top-level navigation: follows redirects; returns every response in order (the last is the page shown). */
  async navigate(url: string): Promise<Page[]> {
    return (await this.navigateUntil(url, () => false)).pages;
  }

  /**
   * A top-level navigation that stops before the first redirect target `stop`
   * matches (a link taken out of a sign-in half way): the responses so far, and
   * that target (undefined when the navigation ended first). A page that posts
   * its form as it loads is posted (a redirect's turn, `stop` not asked).
   */
  async navigateUntil(url: string, stop: (next: URL) => boolean): Promise<{ pages: Page[]; next?: string }> {
    const pages: Page[] = [];
    let next = url;
    let post: { action: string; body: string } | undefined;
    for (let i = 0; i <= MAX_REDIRECTS; i++) {
      const form = post;
      const page = form
        ? await this.fetch(form.action, {
            method: 'POST',
            body: form.body,
            headers: { ...NAVIGATION_HEADERS, 'content-type': 'application/x-www-form-urlencoded', origin: new URL(next).origin },
          })
        : await this.fetch(next, { headers: NAVIGATION_HEADERS });
      pages.push(page);
      if (form) next = form.action;
      post = autoPostedForm(page);
      if (post) continue;
      const location = page.headers.location;
      if (page.status < 300 || page.status >= 400 || location === undefined) return { pages };
      next = new URL(location, next).href;
      if (stop(new URL(next))) return { pages, next };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }
}
