import { NavLink, Outlet, useNavigate, useParams } from 'react-router';
import { useAuth } from '../auth/AuthProvider';
import { useLinkState } from '../graphql/GraphQLProvider';
import { useProject, useViewer } from '../projects/ProjectContext';

function ConnectionBadge() {
  const state = useLinkState();
  if (state === 'connected') return <span className="link-state ok" title="Live updates connected">live</span>;
  if (state === 'refused')
    return (
      <span className="link-state warn" role="alert">
        the gateway refuses your sign-in: reload, or sign out and in again
      </span>
    );
  return (
    <span className="link-state warn" role="status" aria-live="polite">
      {state === 'reconnecting' ? 'reconnecting…' : 'connecting…'}
    </span>
  );
}

export function ProjectSwitcher() {
  const viewer = useViewer();
  const { project } = useParams();
  const navigate = useNavigate();
  return (
    <label className="project-switcher">
      <span>Project</span>
      <select aria-label="Project" value={project} onChange={(e) => navigate(`/p/${e.target.value}/pipelines`)}>
        {viewer.projects.map((p) => (
          <option key={p.id} value={p.slug}>
            {p.name} ({p.slug})
          </option>
        ))}
      </select>
    </label>
  );
}

/** Header (project switcher, live-connection state, who is signed in), navigation, the page. */
export function Layout() {
  const auth = useAuth();
  const project = useProject();
  const base = `/p/${project.slug}`;
  return (
    <div className="layout">
      <header className="topbar">
        <a className="brand" href={`${base}/pipelines`}>
          Pipewright
        </a>
        <ProjectSwitcher />
        <span className="spacer" />
        <ConnectionBadge />
        <span className="whoami" title={`roles: ${project.roles.join(', ') || (project.platformAdmin ? 'platform ADMIN' : 'none')}`}>
          {auth.profile.name ?? auth.profile.sub}
        </span>
        <button type="button" className="link" onClick={() => void auth.signOut()}>
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Sections">
        <NavLink to={`${base}/pipelines`}>Pipelines</NavLink>
        <NavLink to={`${base}/runs`}>Runs</NavLink>
        <NavLink to={`${base}/builds`}>Builds</NavLink>
        <NavLink to={`${base}/settings`}>Environment settings</NavLink>
        <NavLink to={`${base}/members`}>Members</NavLink>
        <NavLink to={`${base}/tokens`}>API tokens</NavLink>
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
