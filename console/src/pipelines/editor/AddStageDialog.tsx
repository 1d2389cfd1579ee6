import { Modal } from '../../ui/Modal';
import { STAGE_GROUPS, type StageTypeInfo } from '../draft';

/** "+Add Stage": every stage type, grouped (Source, Build, Deployment, Feature), a button per type named by its label. */
export function AddStageDialog({ types, onPick, onClose }: { types: StageTypeInfo[]; onPick: (t: StageTypeInfo) => void; onClose: () => void }) {
  return (
    <Modal title="Add stage" onClose={onClose}>
      <div className="add-stage-groups">
        {STAGE_GROUPS.map(({ group, title }) => {
          const inGroup = types.filter((t) => t.group === group);
          if (!inGroup.length) return null;
          return (
            <section key={group} aria-labelledby={`add-stage-${group}`}>
              <h3 id={`add-stage-${group}`}>{title}</h3>
              <ul className="add-stage-list">
                {inGroup.map((t) => (
                  <li key={t.type}>
                    <button type="button" aria-describedby={`add-stage-${t.type}-desc`} onClick={() => onPick(t)}>
                      {t.label}
                    </button>
                    <span id={`add-stage-${t.type}-desc`} className="hint">
                      {t.description}
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
