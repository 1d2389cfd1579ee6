import type { TriggerType } from '../../gql/graphql';
import { CopyField } from '../../ui/CopyField';
import type { TriggerFields } from './TriggerForm';
import { SECRET_PLACEHOLDER, registryNotificationYaml, webhookCurl } from './trigger-types';

/**
 * The hook URL and the secret right after createTrigger or rotateTriggerSecret: the only time the
 * secret is shown. With how to set up the provider, the secret filled in.
 */
export function TriggerSecretPanel({ trigger, secret, rotated, onDone }: { trigger: TriggerFields; secret: string | null; rotated: boolean; onDone: () => void }) {
  return (
    <section className="panel once-panel trigger-once" aria-label="Hook URL and secret">
      <h2 className="panel-title">{rotated ? `New secret of trigger “${trigger.name}”` : `Trigger “${trigger.name}” created`}</h2>
      {secret && (
        <p className="once-note" id="trigger-once-note">
          This secret is shown only now. Copy it into the provider&apos;s settings and keep it somewhere safe: Pipewright keeps it sealed and cannot show it again (rotate the secret to get a new one).
          {rotated && ' The old secret stopped working: update the provider now.'}
        </p>
      )}
      {trigger.hookUrl && <CopyField id="trigger-once-hook-url" label="Hook URL" value={trigger.hookUrl} hint="Where the provider must send its events (POST)." />}
      {secret && <CopyField id="trigger-once-secret" label="Secret" value={secret} describedBy="trigger-once-note" />}
      {trigger.hookUrl && <ProviderSetup idPrefix="trigger-once" type={trigger.type} hookUrl={trigger.hookUrl} secret={secret} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

/** How to point the provider at the hook: GitHub/GitLab webhooks, registry notifications, a plain POST. */
export function ProviderSetup({ idPrefix, type, hookUrl, secret }: { idPrefix: string; type: TriggerType; hookUrl: string; secret: string | null }) {
  const shown = secret ?? SECRET_PLACEHOLDER;
  const secretWord = secret ? 'the secret above' : 'the secret shown when the trigger was created (or rotate it for a new one)';
  let body;
  switch (type) {
    case 'GIT_PUSH':
    case 'GIT_TAG':
      body = (
        <div className="provider-setup-columns">
          <div>
            <h4>GitHub</h4>
            <ol>
              <li>In the repository: Settings → Webhooks → Add webhook.</li>
              <li>
                Payload URL: the hook URL; Content type: <code>application/json</code>.
              </li>
              <li>Secret: {secretWord}.</li>
              <li>Which events: “Just the push event” ({type === 'GIT_TAG' ? 'tags arrive as pushes' : 'a branch push'}).</li>
            </ol>
          </div>
          <div>
            <h4>GitLab</h4>
            <ol>
              <li>In the project: Settings → Webhooks → Add new webhook.</li>
              <li>URL: the hook URL.</li>
              <li>Secret token: {secretWord}.</li>
              <li>Trigger: {type === 'GIT_TAG' ? '“Tag push events”' : '“Push events”'}.</li>
            </ol>
          </div>
        </div>
      );
      break;
    case 'IMAGE_PUSH':
      body = (
        <>
          <p>
            In the registry&apos;s <code>config.yml</code> (Docker distribution), add an endpoint under <code>notifications.endpoints</code>; its <code>Authorization: Bearer</code> header carries the secret. A registry that cannot notify: set a poll interval instead.
          </p>
          <CopyField id={`${idPrefix}-registry-config`} label="Registry notification config" value={registryNotificationYaml(hookUrl, shown)} multiline />
        </>
      );
      break;
    case 'WEBHOOK':
      body = (
        <>
          <p>
            POST a JSON payload to the hook URL with the header <code>Authorization: Bearer {secret ? '<the secret>' : SECRET_PLACEHOLDER}</code>:
          </p>
          <CopyField id={`${idPrefix}-curl`} label="Example request" value={webhookCurl(hookUrl, shown)} multiline />
        </>
      );
      break;
    default:
      return null;
  }
  return (
    <section className="provider-setup" aria-label="Provider setup">
      <h3 className="provider-setup-title">Set up the provider</h3>
      {body}
    </section>
  );
}
