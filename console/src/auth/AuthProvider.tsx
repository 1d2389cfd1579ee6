import { User, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { ErrorState, Loading } from '../ui/states';
import { loadSettings, type ConsoleSettings } from './settings';
import { TokenSignIn } from './TokenSignIn';

export interface Auth {
  /** The bearer token for the gateway right now (refreshed before it expires). */
  accessToken(): string | null;
  /** Who signed in: the token's claims (the gateway's `viewer` says what they may do). */
  profile: { sub: string; name?: string };
  signOut(): Promise<void>;
  /**
   * The gateway refused the token (expired or revoked): get a fresh one with the refresh token,
   * or send the person to sign in again (a pasted development token is asked for again).
   */
  renew(): Promise<void>;
  /** Subscribe to token changes (the WebSocket reconnects with the new one). */
  onTokenChange(listener: () => void): () => void;
}

const AuthContext = createContext<Auth | null>(null);
export const useAuth = () => {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
};

const TOKEN_KEY = 'pipewright.token';
const CALLBACK_PATH = '/auth/callback';

function decodeJwt(token: string): { sub?: string; name?: string; exp?: number } {
  try {
    return JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

/**
 * Signs the person in before anything else renders: with an OpenID provider, the authorization
 * code flow with PKCE (oidc-client-ts), tokens in sessionStorage and renewed with the refresh
 * token; without one (a development gateway on JWT_SECRET) a pasted token.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [settings, setSettings] = useState<ConsoleSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [user, setUser] = useState<User | null>(null);
  const [pasted, setPasted] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  /** Set when the session could not be renewed in the background: the page stays, a banner asks to sign in again. */
  const [sessionProblem, setSessionProblem] = useState<string | null>(null);
  const manager = useRef<UserManager | null>(null);
  const listeners = useRef(new Set<() => void>());
  const location = useLocation();
  const navigate = useNavigate();
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void (async () => {
      try {
        const s = await loadSettings();
        setSettings(s);
        if (s.auth !== 'oidc') return;
        const origin = window.location.origin;
        const um = new UserManager({
          authority: s.issuer!,
          client_id: s.clientId!,
          redirect_uri: `${origin}${CALLBACK_PATH}`,
          post_logout_redirect_uri: `${origin}/`,
          response_type: 'code',
          scope: s.scope ?? 'openid profile offline_access',
          automaticSilentRenew: true,
          userStore: new WebStorageStateStore({ store: window.sessionStorage }),
        });
        manager.current = um;
        um.events.addUserLoaded((u) => {
          setUser(u);
          listeners.current.forEach((l) => l());
        });
        um.events.addUserLoaded(() => setSessionProblem(null));
        // The page (and any unsaved edits) stays; the banner below offers to sign in again.
        um.events.addSilentRenewError((e) => setSessionProblem(`your session could not be renewed (${e.message})`));
        if (window.location.pathname === CALLBACK_PATH) {
          // A redirect back from the provider, or the hidden frame of a silent renewal (no refresh
          // token): signinCallback tells them apart and answers the waiting window in the second case.
          const u = await um.signinCallback();
          if (!u) return;
          setUser(u);
          const back = (u.state as { returnTo?: string } | undefined)?.returnTo ?? '/';
          navigate(back.startsWith('/') && !back.startsWith(CALLBACK_PATH) ? back : '/', { replace: true });
          return;
        }
        const existing = await um.getUser();
        if (existing && !existing.expired) {
          setUser(existing);
          return;
        }
        if (existing?.refresh_token) {
          const renewed = await um.signinSilent().catch(() => null);
          if (renewed) return setUser(renewed);
        }
        await um.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } });
      } catch (e) {
        setError((e as Error).message);
      }
    })();
  }, [navigate]);

  const signOut = useCallback(async () => {
    if (manager.current) {
      const u = await manager.current.getUser();
      await manager.current.removeUser();
      await manager.current.signoutRedirect({ id_token_hint: u?.id_token });
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      setPasted(null);
    }
  }, []);

  const renew = useCallback(async () => {
    const um = manager.current;
    if (!um) {
      sessionStorage.removeItem(TOKEN_KEY);
      setPasted(null);
      return;
    }
    const renewed = await um.signinSilent().catch(() => null);
    if (renewed) return;
    await um.removeUser();
    await um.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } });
  }, []);

  const token = settings?.auth === 'oidc' ? (user?.access_token ?? null) : pasted;
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const auth = useMemo<Auth | null>(() => {
    if (!token) return null;
    const claims = user?.profile ?? decodeJwt(token);
    return {
      accessToken: () => tokenRef.current,
      profile: { sub: String(claims.sub ?? ''), name: typeof claims.name === 'string' ? claims.name : undefined },
      signOut,
      renew,
      onTokenChange: (l) => {
        listeners.current.add(l);
        return () => void listeners.current.delete(l);
      },
    };
    // The token's identity, not each refreshed token, makes a new Auth (tokenRef serves the fresh one).
  }, [Boolean(token), user?.profile.sub, signOut, renew]);

  if (error) return <ErrorState title="Sign-in failed" message={error} action={<a href="/">Try again</a>} />;
  if (!settings) return <Loading label="Loading the console" />;
  if (settings.auth === 'token' && !pasted)
    return (
      <TokenSignIn
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setPasted(t);
          if (location.pathname === CALLBACK_PATH) navigate('/', { replace: true });
        }}
      />
    );
  if (!auth) return <Loading label="Signing in" />;
  return (
    <AuthContext.Provider value={auth}>
      {sessionProblem && (
        <div className="session-banner" role="alert">
          Signed out soon: {sessionProblem}.{' '}
          <button type="button" onClick={() => void manager.current?.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } })}>
            Sign in again
          </button>
        </div>
      )}
      {children}
    </AuthContext.Provider>
  );
}
