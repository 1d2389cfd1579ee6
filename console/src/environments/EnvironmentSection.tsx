import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useNavigate, useParams } from 'react-router';
import { useProject } from '../projects/ProjectContext';
import { Empty } from '../ui/states';
import { buildTools, chartRepositories, deploymentTargets, imageRegistries, secrets, sourceRepositories, type KindConfig, type ResourceRow } from './kinds';
import { ResourceTab } from './ResourceTab';
import './environments.css';

interface Tab {
  slug: string;
  title: string;
  render: () => ReactNode;
}

// Each kind pins its own row and input types; the closure keeps them for the generic tab.
const tab = <Row extends ResourceRow, C, U>(kind: KindConfig<Row, C, U>): Tab => ({
  slug: kind.slug,
  title: kind.title,
  render: () => <ResourceTab key={kind.slug} kind={kind} />,
});

export const TABS: Tab[] = [tab(sourceRepositories), tab(buildTools), tab(imageRegistries), tab(chartRepositories), tab(deploymentTargets), tab(secrets)];

const tabId = (slug: string) => `env-tab-${slug}`;

/** `/p/:project/settings/*`: the project's environment resources, one tab (and URL) per kind. */
export function EnvironmentSection() {
  return (
    <Routes>
      <Route index element={<Navigate to="source-repositories" replace />} />
      <Route path=":kind" element={<KindPage />} />
      <Route path="*" element={<Navigate to="source-repositories" replace />} />
    </Routes>
  );
}

function KindPage() {
  const { kind } = useParams();
  const { slug } = useProject();
  const navigate = useNavigate();
  const refs = useRef<Record<string, HTMLAnchorElement | null>>({});
  const current = TABS.find((t) => t.slug === kind);

  // Arrow keys move between the tabs (and to their pages), Home/End to the first/last.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.findIndex((t) => t.slug === kind);
    const to =
      e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    navigate(`/p/${slug}/settings/${TABS[to].slug}`);
    refs.current[TABS[to].slug]?.focus();
  };

  return (
    <div className="env-section">
      <div className="page-header">
        <h1>Environment settings</h1>
      </div>
      <div className="tabs" role="tablist" aria-label="Environment resource kinds" onKeyDown={onKeyDown}>
        {TABS.map((t) => {
          const selected = t.slug === kind;
          return (
            <Link
              key={t.slug}
              ref={(el) => {
                refs.current[t.slug] = el;
              }}
              to={`/p/${slug}/settings/${t.slug}`}
              role="tab"
              id={tabId(t.slug)}
              aria-selected={selected}
              aria-controls={selected ? 'env-tabpanel' : undefined}
              tabIndex={selected || !current ? 0 : -1}
            >
              {t.title}
            </Link>
          );
        })}
      </div>
      {current ? (
        <div role="tabpanel" id="env-tabpanel" aria-labelledby={tabId(current.slug)}>
          {current.render()}
        </div>
      ) : (
        <Empty title={`No settings page “${kind}”`}>Pick one of the tabs above.</Empty>
      )}
    </div>
  );
}
