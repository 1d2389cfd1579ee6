/** GET /console-config.json: how the gateway wants the console to sign people in. */
export interface ConsoleSettings {
  auth: 'oidc' | 'token';
  issuer?: string;
  clientId?: string;
  scope?: string;
  graphqlPath: string;
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const res = await fetch('/console-config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /console-config.json answered ${res.status}: is this console served by a Pipewright gateway?`);
  return (await res.json()) as ConsoleSettings;
}
