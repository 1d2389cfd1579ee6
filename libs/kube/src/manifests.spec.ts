import { KubeError } from './kube-error';
import { isWorkload, parseManifests, parseValue, valueAt, withDefaultPortProtocols } from './manifests';

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 2
`;

function failure(fn: () => unknown): KubeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('expected a KubeError');
}

describe('parseManifests', () => {
  it('reads multi-document YAML, skipping empty and comment-only documents', () => {
    const docs = parseManifests(`---\n# Source: chart/templates/a.yaml\n---\n${deployment('a')}---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n`);
    expect(docs.map((d) => [d.kind, (d.metadata as { name: string }).name])).toEqual([
      ['Deployment', 'a'],
      ['ConfigMap', 'b'],
    ]);
    expect((docs[0].spec as { replicas: number }).replicas).toBe(2);
  });

  it('reads JSON, one object or an array of them', () => {
    expect(parseManifests('{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}')).toHaveLength(1);
    const docs = parseManifests('[{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"t"}}]');
    expect(docs.map((d) => d.kind)).toEqual(['Service', 'Secret']);
  });

  it('flattens the items of a List in its place', () => {
    const docs = parseManifests(`${deployment('first')}---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}
---
${deployment('last')}`);
    expect(docs.map((d) => (d.metadata as { name: string }).name)).toEqual(['first', 'one', 'two', 'last']);
  });

  it('reads YAML as kubectl does: 1.1 octals and booleans, timestamps left as strings', () => {
    const [doc] = parseManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {released: 2024-01-02}}
data: {enabled: "yes"}
mode: 0644
flag: yes
`);
    expect(doc.mode).toBe(420);
    expect(doc.flag).toBe(true);
    expect((doc.metadata as { labels: Record<string, unknown> }).labels.released).toBe('2024-01-02');
  });

  it('names the document and the field that is missing', () => {
    const noName = failure(() => parseManifests(`${deployment('a')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n`));
    expect(noName.message).toBe('document 2 (ConfigMap) has no metadata.name');
    expect(noName.document).toBe(2);
    expect(noName.causes).toEqual([{ field: 'metadata.name', message: '(ConfigMap) has no metadata.name' }]);

    expect(failure(() => parseManifests(`${deployment('a')}---\nkind: Service\nmetadata: {name: s}\n`)).message).toBe('document 2 has no apiVersion (e.g. apiVersion: apps/v1)');
    expect(failure(() => parseManifests(`apiVersion: v1\nmetadata: {name: s}\n`)).message).toBe('document 1 has no kind (e.g. kind: Deployment)');
    expect(failure(() => parseManifests(`apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n`)).message).toMatch(/document 1 \(Pod\) has no metadata.name \(generateName is not supported/);
    expect(failure(() => parseManifests(`apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Pod}\n`)).message).toBe('document 1 (item 1 of its List) (Pod) has no metadata.name');
  });

  it('names the document that does not parse, and one that is not a mapping', () => {
    const bad = failure(() => parseManifests(`${deployment('a')}---\nkind: [unclosed\n`));
    expect(bad.message).toMatch(/^document 2 does not parse as YAML: /);
    expect(bad.document).toBe(2);
    expect(failure(() => parseManifests('just a string')).message).toMatch(/^document 1 is not a mapping of fields \(got string\)/);
    expect(failure(() => parseManifests(`${deployment('a')}---\n- a\n- b\n`)).message).toMatch(/^document 2 is not a mapping of fields \(got a list\)/);
  });
});

describe('isWorkload', () => {
  it('is true for the kinds stability() watches', () => {
    expect(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].every(isWorkload)).toBe(true);
    expect(['Service', 'ConfigMap', 'CronJob', 'Pod', 'deployment'].some(isWorkload)).toBe(false);
  });
});

describe('parseValue and valueAt', () => {
  it('parses a YAML or JSON patch, and fails saying what did not parse', () => {
    expect(parseValue('spec:\n  replicas: 3\n', 'the patch')).toEqual({ spec: { replicas: 3 } });
    expect(parseValue('[{"op":"remove","path":"/a"}]', 'the patch')).toEqual([{ op: 'remove', path: '/a' }]);
    expect(failure(() => parseValue('a: [', 'the patch')).message).toMatch(/^the patch does not parse as YAML or JSON: /);
  });

  it('reads a dotted path with list indexes', () => {
    const doc = { spec: { replicas: 'three', template: { spec: { containers: [{ image: 'a' }, { image: 'b' }] } } } };
    expect(valueAt(doc, 'spec.replicas')).toBe('three');
    expect(valueAt(doc, 'spec.template.spec.containers[1].image')).toBe('b');
    expect(valueAt(doc, 'spec.missing.deeper')).toBeUndefined();
  });
});

describe('withDefaultPortProtocols', () => {
  it('adds protocol TCP to Service and container ports that leave it out, on a copy', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } };
    expect((withDefaultPortProtocols(service).spec as { ports: unknown[] }).ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
    expect(service.spec.ports[0]).toEqual({ port: 80 });
    const [cron] = parseManifests(`apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: i, image: x, ports: [{containerPort: 1}]}]
          containers: [{name: m, image: x, ports: [{containerPort: 8080}]}]
`);
    expect(JSON.stringify(withDefaultPortProtocols(cron))).toContain('"ports":[{"containerPort":8080,"protocol":"TCP"}]');
    expect(JSON.stringify(withDefaultPortProtocols(cron))).toContain('"ports":[{"containerPort":1,"protocol":"TCP"}]');
  });
});
