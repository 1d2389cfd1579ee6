import { Navigate, Route, Routes } from 'react-router';
import { BuildsSection } from './builds/BuildsSection';
import { EnvironmentSection } from './environments/EnvironmentSection';
import { PipelinesSection } from './pipelines/PipelinesSection';
import { ProjectScope, useViewerQuery } from './projects/ProjectContext';
import { MembersPage } from './projects/MembersPage';
import { TokensPage } from './projects/TokensPage';
import { RunsSection } from './runs/RunsSection';
import { Layout } from './ui/Layout';
import { Empty, ErrorState, Loading, errorMessage } from './ui/states';

/** `/`: the project `default` when the viewer may see it, else the first one. */
function Home() {
  const { viewer, error } = useViewerQuery();
  if (error) return <ErrorState message={errorMessage(error)} />;
  if (!viewer) return <Loading label="Loading your projects" />;
  const p = viewer.projects.find((x) => x.slug === 'default') ?? viewer.projects[0];
  if (!p) return <Empty title="You are not a member of any project">Ask a project admin to add you ({viewer.sub}).</Empty>;
  return <Navigate to={`/p/${p.slug}/pipelines`} replace />;
}

export function App() {
  return (
    <Routes>
      <Route path="/" element={<Home />} />
      <Route path="/auth/callback" element={<Loading label="Signing in" />} />
      <Route
        path="/p/:project"
        element={
          <ProjectScope>
            <Layout />
          </ProjectScope>
        }
      >
        <Route index element={<Navigate to="pipelines" replace />} />
        <Route path="pipelines/*" element={<PipelinesSection />} />
        <Route path="runs/*" element={<RunsSection />} />
        <Route path="builds/*" element={<BuildsSection />} />
        <Route path="settings/*" element={<EnvironmentSection />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="tokens" element={<TokensPage />} />
      </Route>
      <Route path="*" element={<Empty title="No such page">Go to the <a href="/">start page</a>.</Empty>} />
    </Routes>
  );
}
