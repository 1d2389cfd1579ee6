import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { testEnv } from './test-env';

/** A request to the test environment's Kubernetes API as cluster-admin (trusting its CA); the body parsed as JSON. */
export function kubeAdmin<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${testEnv('KUBE_API_URL')}${path}`,
      { method, ca: readFileSync(testEnv('KUBE_CA_FILE')), headers: { authorization: `Bearer ${testEnv('KUBE_TOKEN')}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
