import { fromConnectionError, fromStatus, redact, type RequestSubject } from './kube-error';

const subject = (extra: Partial<RequestSubject> = {}): RequestSubject => ({
  verb: 'patch',
  resource: 'deployments',
  group: 'apps',
  kind: 'Deployment',
  name: 'web',
  namespace: 't1',
  operation: 'patch',
  ...extra,
});
const server = { server: 'https://k8s.example:6443' };

describe('fromStatus', () => {
  it('403: names the verb, resource with group, name and namespace, and what the cluster said', () => {
    const said = 'deployments.apps "web" is forbidden: User "system:serviceaccount:t1:limited" cannot patch resource "deployments" in API group "apps" in the namespace "t1"';
    const err = fromStatus(403, { code: 403, reason: 'Forbidden', message: said, details: { name: 'web', group: 'apps', kind: 'deployments' } }, subject(), server);
    expect(err.message).toBe(`forbidden: the deployment target's credentials may not patch deployments.apps "web" in namespace "t1" (cluster said: ${said})`);
    expect(err).toMatchObject({ status: 403, reason: 'Forbidden', retryable: false });
    // The verb the cluster checked wins: an apply that creates needs `create`.
    const create = fromStatus(403, { message: 'configmaps "c" is forbidden: User "u" cannot create resource "configmaps" in API group "" in the namespace "t1"' }, subject({ resource: 'configmaps', group: '', kind: 'ConfigMap', name: 'c', document: 2 }), server);
    expect(create.message).toMatch(/^forbidden: the deployment target's credentials may not create configmaps "c" in namespace "t1" \(document 2 \(ConfigMap c\)\)/);
  });

  it('404: names what is missing, or that the namespace is', () => {
    expect(fromStatus(404, { message: 'deployments.apps "web" not found', details: { name: 'web', kind: 'deployments' } }, subject(), server).message).toBe(
      'not found: deployment web in namespace t1 (cluster said: deployments.apps "web" not found)',
    );
    const ns = fromStatus(404, { message: 'namespaces "t1" not found', details: { name: 't1', kind: 'namespaces' } }, subject({ operation: 'apply', document: 1 }), server);
    expect(ns.message).toBe('not found: namespace t1 does not exist (create it first, or choose another namespace), so deployment web in namespace t1 cannot be applied (document 1 (Deployment web))');
    expect(ns.reason).toBe('NamespaceNotFound');
  });

  it('422: names the document and each field', () => {
    const err = fromStatus(
      422,
      {
        reason: 'Invalid',
        message: 'Deployment.apps "web" is invalid: [...]',
        details: { causes: [{ field: 'spec.selector', message: 'Required value' }, { field: 'spec.template.metadata.labels', message: 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`' }] },
      },
      subject({ operation: 'apply', document: 2 }),
      server,
    );
    expect(err.message).toBe('invalid: document 2 (Deployment web) is invalid: spec.selector: Required value; spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`');
    expect(err.causes.map((c) => c.field)).toEqual(['spec.selector', 'spec.template.metadata.labels']);
  });

  it("500 from server-side apply's schema check: the field, and the document's value instead of Go's type name", () => {
    const err = fromStatus(
      500,
      { code: 500, message: 'failed to create typed patch object: .spec.replicas: expected numeric (int or float), got *value.valueUnstructured' },
      subject({ operation: 'apply', document: 2, valueAt: (f) => (f === 'spec.replicas' ? 'three' : undefined) }),
      server,
    );
    expect(err.message).toBe('invalid: document 2 (Deployment web) is invalid: spec.replicas: expected numeric (int or float), got "three"');
    expect(err).toMatchObject({ status: 500, reason: 'Invalid', retryable: false, causes: [{ field: 'spec.replicas', message: 'expected numeric (int or float), got "three"' }] });
  });

  it('retries only what may pass later', () => {
    expect(fromStatus(503, { message: 'etcd is down' }, subject(), server).retryable).toBe(true);
    expect(fromStatus(409, { message: 'the object has been modified' }, subject(), server).retryable).toBe(true);
    expect(fromStatus(401, { message: 'Unauthorized' }, subject(), server).message).toMatch(/^unauthorized: the cluster at https:\/\/k8s\.example:6443 rejected/);
  });
});

describe('fromConnectionError', () => {
  it('names the server and the errno or TLS reason', () => {
    expect(fromConnectionError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, 'https://127.0.0.1:1').message).toBe(
      'cannot reach the Kubernetes API server at https://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (nothing listens there: is the URL and port right, and is the API server up?)',
    );
    const tls = fromConnectionError({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' }, 'https://k');
    expect(tls.message).toMatch(/SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain \(TLS: the server's certificate is not trusted/);
    expect(tls.retryable).toBe(false);
  });

  it('redacts secrets', () => {
    expect(redact('token abcdef leaked', ['abcdef', null])).toBe('token [redacted] leaked');
  });
});
