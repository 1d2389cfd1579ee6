import { useState } from 'react';

/** Development gateways without an OpenID provider: paste a token from `npm run token`. */
export function TokenSignIn({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <main className="signin">
      <h1>Pipewright</h1>
      <p>This gateway has no OpenID provider configured (OIDC_ISSUER). Paste a token, e.g. from <code>npm run token -- --sub developer</code>.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim().split('.').length !== 3 && !value.trim().startsWith('pwt_')) return setError('a token is a JWT (three dot-separated parts) or an API token (pwt_…)');
          onToken(value.trim());
        }}
      >
        <label htmlFor="token">Token</label>
        <textarea id="token" rows={4} value={value} onChange={(e) => (setValue(e.target.value), setError(null))} aria-invalid={!!error} aria-describedby="token-error" />
        {error && <p id="token-error" className="field-error" role="alert">{error}</p>}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
