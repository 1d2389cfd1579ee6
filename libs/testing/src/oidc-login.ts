// Signing in at an OpenID provider over plain HTTP, as a browser without JavaScript would: a cookie
// jar, redirects, HTML forms filled in by their labels. Used by the provider's own spec and by
// tests that need a real token of the development provider (deploy/testenv/oidc-provider.mjs).
import { createHash, randomBytes } from 'node:crypto';

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

export interface Page {
  url: URL;
  status: number;
  html: string;
}

export interface HtmlForm {
  action: URL;
  method: string;
  /** Named inputs with their current values (hidden ones included). */
  fields: Record<string, string>;
  /** Label text (trimmed) → the name of the input it labels. */
  labels: Record<string, string>;
  /** Submit buttons: their text, and the name/value they add when clicked. */
  buttons: Array<{ text: string; name?: string; value?: string }>;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expires?: number;
}

const decode = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e] ?? _m);

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const m of body.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

const text = (html: string) => decode(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();

/** The forms of an HTML page (enough HTML for the provider's pages, not a general parser). */
export function parseForms(html: string, base: URL): HtmlForm[] {
  const labelsById = new Map<string, string>();
  for (const m of html.matchAll(/<label\b([^>]*)>([\s\S]*?)<\/label>/gi)) {
    const forId = attributes(`<label ${m[1]}>`).for;
    if (forId) labelsById.set(forId, text(m[2]));
  }
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(`<form ${m[1]}>`);
    const form: HtmlForm = {
      action: new URL(attrs.action || base.href, base),
      method: (attrs.method || 'get').toUpperCase(),
      fields: {},
      labels: {},
      buttons: [],
    };
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const a = attributes(input[0]);
      if (!a.name) continue;
      const type = (a.type || 'text').toLowerCase();
      if (type === 'submit') {
        form.buttons.push({ text: a.value ?? '', name: a.name, value: a.value ?? '' });
        continue;
      }
      if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
      form.fields[a.name] = a.value ?? '';
      const label = a.id ? labelsById.get(a.id) : undefined;
      if (label) form.labels[label] = a.name;
    }
    for (const b of m[2].matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const a = attributes(`<button ${b[1]}>`);
      if ((a.type || 'submit').toLowerCase() !== 'submit') continue;
      form.buttons.push({ text: text(b[2]), name: a.name, value: a.value });
    }
    forms.push(form);
  }
  return forms;
}

/** The form holding the submit button with this text; fails with the page's text when there is none. */
export function formWithButton(page: Page, buttonText: string): HtmlForm {
  const form = parseForms(page.html, page.url).find((f) => f.buttons.some((b) => b.text === buttonText));
  if (!form) throw new Error(`no "${buttonText}" button on ${page.url.href} (${page.status}): ${text(page.html).slice(0, 500)}`);
  return form;
}

/** A user agent with a cookie jar that follows redirects; it never runs scripts. */
export class Browser {
  private readonly jar = new Map<string, Cookie>();

  private cookieHeader(url: URL): string | undefined {
    const now = Date.now();
    const pairs: string[] = [];
    for (const [key, c] of this.jar) {
      if (c.expires !== undefined && c.expires <= now) {
        this.jar.delete(key);
        continue;
      }
      const pathOk = url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
      if (c.host === url.hostname && pathOk) pairs.push(`${c.name}=${c.value}`);
    }
    return pairs.length ? pairs.join('; ') : undefined;
  }

  private store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: Cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), host: url.hostname, path: '/' };
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) cookie.path = v;
        else if (key === 'expires') cookie.expires = Date.parse(v);
        else if (key === 'max-age') cookie.expires = Date.now() + Number(v) * 1000;
      }
      const id = `${cookie.host}|${cookie.path}|${cookie.name}`;
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.jar.delete(id);
      else this.jar.set(id, cookie);
    }
  }

  /** One request without following redirects; cookies are sent and kept. */
  async request(url: URL | string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json;q=0.9' };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(target, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    this.store(target, res);
    return res;
  }

  /**
   * Requests `url` and follows redirects. A redirect to a URL for which `stopAt` returns true is
   * not followed (it is usually an application's redirect URI): that URL is returned with status 0.
   */
  async navigate(url: URL | string, init: { method?: string; form?: Record<string, string> } = {}, stopAt?: (u: URL) => boolean): Promise<Page> {
    let current = new URL(url);
    let next: { method?: string; form?: Record<string, string> } = init;
    for (let hop = 0; hop < 20; hop++) {
      const res = await this.request(current, next);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        const target = new URL(location, current);
        // 307/308 repeat the method and body; 301/302/303 become a GET.
        next = res.status === 307 || res.status === 308 ? next : {};
        if (stopAt?.(target)) return { url: target, status: 0, html: '' };
        current = target;
        continue;
      }
      return { url: current, status: res.status, html: await res.text() };
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  /** Submits a form as a click on the button with `buttonText`, with `values` typed into the inputs labelled by their keys. */
  async submit(form: HtmlForm, values: Record<string, string>, buttonText?: string, stopAt?: (u: URL) => boolean): Promise<Page> {
    const data: Record<string, string> = { ...form.fields };
    for (const [label, value] of Object.entries(values)) {
      const name = form.labels[label];
      if (!name) throw new Error(`the form for ${form.action.href} has no input labelled "${label}" (labels: ${Object.keys(form.labels).join(', ') || 'none'})`);
      data[name] = value;
    }
    const button = buttonText === undefined ? form.buttons[0] : form.buttons.find((b) => b.text === buttonText);
    if (buttonText !== undefined && !button) throw new Error(`the form for ${form.action.href} has no "${buttonText}" button`);
    if (button?.name) data[button.name] = button.value ?? '';
    if (form.method === 'GET') {
      const target = new URL(form.action);
      for (const [k, v] of Object.entries(data)) target.searchParams.set(k, v);
      return this.navigate(target, {}, stopAt);
    }
    return this.navigate(form.action, { method: form.method, form: data }, stopAt);
  }
}

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  device_authorization_endpoint?: string;
  userinfo_endpoint?: string;
  [key: string]: unknown;
}

export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Discovery;
}

/** The sign-in page refused the credentials: `page` is the login form shown again, with its error. */
export class SignInRefusedError extends Error {
  constructor(readonly page: Page) {
    super(`sign-in refused: ${text(page.html).slice(0, 300)}`);
    this.name = 'SignInRefusedError';
  }
}

/** Signs in on a login page (inputs labelled Username and Password, a Sign in button), following redirects until `stopAt`. */
export async function signIn(browser: Browser, loginPage: Page, username: string, password: string, stopAt?: (u: URL) => boolean): Promise<Page> {
  const form = formWithButton(loginPage, 'Sign in');
  const after = await browser.submit(form, { Username: username, Password: password }, 'Sign in', stopAt);
  if (after.status !== 0 && parseForms(after.html, after.url).some((f) => f.buttons.some((b) => b.text === 'Sign in'))) {
    throw new SignInRefusedError(after);
  }
  return after;
}

export async function tokenRequest(tokenEndpoint: string, params: Record<string, string>, basicAuth?: { user: string; password: string }): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (basicAuth) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(basicAuth.user)}:${enc(basicAuth.password)}`).toString('base64')}`;
  }
  const res = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface CodeLoginOptions {
  issuer: string;
  username: string;
  password: string;
  clientId?: string;
  /** Must be one of the client's redirect URIs; it is never requested. */
  redirectUri?: string;
  scope?: string;
  /** A browser with cookies of earlier sign-ins (the provider's session), else a new one. */
  browser?: Browser;
}

/**
 * The authorization-code flow with PKCE (S256), driven like a browser: authorize, the login page,
 * back to the redirect URI, then the code exchanged at the token endpoint with the verifier.
 * Throws SignInRefusedError when the provider refuses the credentials.
 */
export async function loginWithAuthorizationCode(opts: CodeLoginOptions): Promise<TokenSet> {
  const clientId = opts.clientId ?? 'pipewright-console';
  const redirectUri = opts.redirectUri ?? 'http://127.0.0.1:4000/auth/callback';
  const browser = opts.browser ?? new Browser();
  const d = await discover(opts.issuer);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(12).toString('base64url');
  const authorize = new URL(d.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: opts.scope ?? 'openid profile groups',
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(k, v);
  }
  const atRedirect = (u: URL) => `${u.origin}${u.pathname}` === redirectUri;
  let page = await browser.navigate(authorize, {}, atRedirect);
  if (page.status !== 0) page = await signIn(browser, page, opts.username, opts.password, atRedirect);
  if (page.status !== 0) throw new Error(`sign-in did not return to ${redirectUri}: ${page.url.href} (${page.status}) ${text(page.html).slice(0, 300)}`);
  const q = page.url.searchParams;
  if (q.get('error')) throw new Error(`authorization failed: ${q.get('error')} ${q.get('error_description') ?? ''}`);
  if (q.get('state') !== state) throw new Error(`authorization response state mismatch (${q.get('state')})`);
  if (q.get('iss') && q.get('iss') !== d.issuer) throw new Error(`authorization response from issuer ${q.get('iss')}, expected ${d.issuer}`);
  const code = q.get('code');
  if (!code) throw new Error(`no code in ${page.url.href}`);
  const { status, body } = await tokenRequest(d.token_endpoint, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier });
  if (status !== 200 || typeof body.access_token !== 'string') throw new Error(`token endpoint answered ${status}: ${JSON.stringify(body)}`);
  return body as unknown as TokenSet;
}

/** The access token of `username` through the development provider's console client. */
export async function oidcAccessToken(issuer: string, username: string, password: string): Promise<string> {
  return (await loginWithAuthorizationCode({ issuer, username, password })).access_token;
}
