import { KubeConfig } from '@kubernetes/client-node';
import { Directive, Field, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ResolvedDeploymentTarget } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';
import { z } from 'zod';
import { describeStatus, fetchWithin } from '../probes/http-probe';
import { baseModel, type KindDefinition } from './kind';
import { nameField, namespaceField, pemField, secretField, urlField } from './fields';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

export enum ClusterAuthMethod {
  TOKEN = 'TOKEN',
  CLIENT_CERTIFICATE = 'CLIENT_CERTIFICATE',
  NONE = 'NONE',
}
registerEnumType(ClusterAuthMethod, { name: 'ClusterAuthMethod' });

@ObjectType({ implements: () => [EnvironmentResourceBase], description: 'A Kubernetes cluster that Deployment stages act on.' })
@Directive('@key(fields: "id")')
export class DeploymentTarget extends EnvironmentResourceBase {
  @Field() apiServerUrl!: string;
  @Field(() => String, { nullable: true, description: 'PEM CA bundle the API server is verified with (not secret).' }) caCertificate!: string | null;
  @Field() insecureSkipTlsVerify!: boolean;
  @Field(() => ClusterAuthMethod) authMethod!: ClusterAuthMethod;
  @Field(() => String, { nullable: true, description: 'PEM client certificate (not secret; its key is).' }) clientCertificate!: string | null;
  @Field() defaultNamespace!: string;
}

@InputType({ description: 'Either the fields, or a pasted `kubeconfig` whose current context fills the fields not given.' })
export class CreateDeploymentTargetInput extends InProjectInput {
  @Field() name!: string;
  @Field({ nullable: true, description: 'e.g. https://k8s.example.com:6443' }) apiServerUrl?: string;
  @Field(() => String, { nullable: true }) caCertificate?: string | null;
  @Field({ nullable: true, description: 'Default: false' }) insecureSkipTlsVerify?: boolean;
  @Field(() => String, { nullable: true, description: 'Bearer token (secret).' }) token?: string | null;
  @Field(() => String, { nullable: true }) clientCertificate?: string | null;
  @Field(() => String, { nullable: true, description: 'PEM key of the client certificate (secret).' }) clientKey?: string | null;
  @Field({ nullable: true, description: 'Default: the kubeconfig context namespace, else "default"' }) defaultNamespace?: string;
  @Field(() => String, { nullable: true, description: 'A kubeconfig (YAML) with embedded credentials; its current context is used.' }) kubeconfig?: string | null;
}

@InputType({ description: 'Omitted fields keep their value; `token: null` / `clientKey: null` clear them.' })
export class UpdateDeploymentTargetInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) apiServerUrl?: string;
  @Field(() => String, { nullable: true }) caCertificate?: string | null;
  @Field({ nullable: true }) insecureSkipTlsVerify?: boolean;
  @Field(() => String, { nullable: true }) token?: string | null;
  @Field(() => String, { nullable: true }) clientCertificate?: string | null;
  @Field(() => String, { nullable: true }) clientKey?: string | null;
  @Field({ nullable: true }) defaultNamespace?: string;
  @Field(() => String, { nullable: true }) kubeconfig?: string | null;
}

const schema = z
  .object({
    name: nameField,
    apiServerUrl: urlField(['https', 'http'], 'https://k8s.example.com:6443'),
    caCertificate: pemField('CA certificate', /-----BEGIN CERTIFICATE-----/),
    insecureSkipTlsVerify: z.boolean({ invalid_type_error: 'must be true or false' }).nullish().transform((v) => v ?? false),
    token: secretField,
    clientCertificate: pemField('client certificate', /-----BEGIN CERTIFICATE-----/),
    clientKey: secretField.refine((v) => v === null || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v), { message: 'must be a PEM private key ("-----BEGIN ... PRIVATE KEY-----")' }),
    defaultNamespace: namespaceField.nullish().transform((v) => v || 'default'),
  })
  .superRefine((v, ctx) => {
    if (!!v.clientCertificate !== !!v.clientKey) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [v.clientCertificate ? 'clientKey' : 'clientCertificate'], message: 'is required with a client certificate and key pair (give both, or neither)' });
    }
  });

const decodeData = (data: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : undefined);

/** Takes the fields of a pasted kubeconfig's current context; fields given explicitly win. */
export function expandKubeconfig(input: Record<string, unknown>): Record<string, unknown> {
  const { kubeconfig, ...rest } = input;
  if (kubeconfig === undefined || kubeconfig === null) return rest;
  const problem = (message: string) => DomainError.badInput([{ field: 'input.kubeconfig', message }]);
  if (typeof kubeconfig !== 'string' || !kubeconfig.trim()) throw problem('must be the text of a kubeconfig file');
  if (kubeconfig.length > 1024 * 1024) throw problem('must be at most 1 MB');
  const kc = new KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch (err) {
    throw problem(`does not parse as a kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  if (!context) throw problem('has no current-context (set current-context to the context to use)');
  const cluster = kc.getCluster(context.cluster);
  if (!cluster?.server) throw problem(`context "${context.name}" names cluster "${context.cluster}", which has no server`);
  const user = context.user ? kc.getUser(context.user) : null;
  if (cluster.caFile || user?.certFile || user?.keyFile) {
    throw problem('refers to files (certificate-authority, client-certificate or client-key); paste one with the *-data fields embedded');
  }
  if (user?.exec || user?.authProvider) {
    throw problem(`user "${user.name}" authenticates with an exec plugin or auth provider; use a service-account token or client certificate instead`);
  }
  const fromConfig: Record<string, unknown> = {
    apiServerUrl: cluster.server,
    caCertificate: decodeData(cluster.caData) ?? null,
    insecureSkipTlsVerify: cluster.skipTLSVerify ?? false,
    token: user?.token ?? null,
    clientCertificate: decodeData(user?.certData) ?? null,
    clientKey: decodeData(user?.keyData) ?? null,
    defaultNamespace: context.namespace ?? 'default',
  };
  const explicit = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { ...fromConfig, ...explicit };
}

export const deploymentTargetKind: KindDefinition<ResolvedDeploymentTarget> = {
  kind: 'deployment-target',
  typeName: 'DeploymentTarget',
  singular: 'deploymentTarget',
  plural: 'deploymentTargets',
  label: 'deployment target',
  secretFields: ['token', 'clientKey'],
  schema,
  prepare: expandKubeconfig,
  model: DeploymentTarget,
  createInput: CreateDeploymentTargetInput,
  updateInput: UpdateDeploymentTargetInput,
  resolveSubject: 'rpc.environments.deployment-target.resolve',
  toModel: (row) => ({
    ...baseModel(row),
    apiServerUrl: row.config.apiServerUrl,
    caCertificate: row.config.caCertificate ?? null,
    insecureSkipTlsVerify: row.config.insecureSkipTlsVerify,
    clientCertificate: row.config.clientCertificate ?? null,
    defaultNamespace: row.config.defaultNamespace,
    authMethod: row.secrets.token ? ClusterAuthMethod.TOKEN : row.secrets.clientKey ? ClusterAuthMethod.CLIENT_CERTIFICATE : ClusterAuthMethod.NONE,
  }),
  resolved: (row, secrets) => ({
    id: row.id,
    name: row.name,
    apiServerUrl: row.config.apiServerUrl as string,
    caCertificate: (row.config.caCertificate as string | null) ?? null,
    insecureSkipTlsVerify: row.config.insecureSkipTlsVerify as boolean,
    token: secrets.token ?? null,
    clientCertificate: (row.config.clientCertificate as string | null) ?? null,
    clientKey: secrets.clientKey ?? null,
    defaultNamespace: row.config.defaultNamespace as string,
  }),
  async probe(target, { timeoutMs }) {
    const tls = {
      ca: target.caCertificate ?? undefined,
      insecure: target.insecureSkipTlsVerify,
      cert: target.clientCertificate ?? undefined,
      key: target.clientKey ?? undefined,
      headers: target.token ? { authorization: `Bearer ${target.token}` } : undefined,
      timeoutMs,
    };
    const credential = target.token ? 'token' : target.clientKey ? 'client certificate' : 'credentials (none are stored)';
    const versionUrl = new URL('/version', target.apiServerUrl);
    const version = await fetchWithin(versionUrl, tls);
    const vFailure = describeStatus(version.status, versionUrl, credential);
    if (vFailure) throw vFailure;
    const { gitVersion } = JSON.parse(version.body) as { gitVersion?: string };
    // /version is often anonymous: the namespace list is what proves the credentials.
    const nsUrl = new URL(`/api/v1/namespaces/${encodeURIComponent(target.defaultNamespace)}`, target.apiServerUrl);
    const listUrl = new URL('/api/v1/namespaces?limit=100', target.apiServerUrl);
    const list = await fetchWithin(listUrl, tls);
    if (list.status === 200) {
      const names = ((JSON.parse(list.body) as { items?: { metadata: { name: string } }[] }).items ?? []).map((i) => i.metadata.name);
      return {
        message: `reached Kubernetes ${gitVersion ?? ''} at ${versionUrl.host}: ${names.length} namespaces visible`.replace('  ', ' '),
        details: { version: gitVersion ?? null, namespaces: names.slice(0, 100), defaultNamespaceFound: names.includes(target.defaultNamespace) },
      };
    }
    if (list.status === 403) {
      // A token scoped to some namespaces cannot list them all; reading its own is enough.
      const own = await fetchWithin(nsUrl, tls);
      if (own.status === 200 || own.status === 403) {
        return {
          message: `reached Kubernetes ${gitVersion ?? ''} at ${versionUrl.host}; the ${credential} cannot list namespaces (RBAC), which is fine for a namespace-scoped target`.replace('  ', ' '),
          details: { version: gitVersion ?? null, namespaces: null, canListNamespaces: false },
        };
      }
    }
    throw describeStatus(list.status, listUrl, credential)!;
  },
};
