import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { useParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { useLinkGeneration } from '../graphql/GraphQLProvider';
import type { ProjectRole } from '../gql/graphql';
import { Empty, ErrorState, Loading, errorMessage } from '../ui/states';

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      sub
      name
      roles
      via
      projects {
        roles
        project {
          id
          slug
          name
        }
      }
    }
    projects(first: 100) {
      edges {
        node {
          id
          slug
          name
        }
      }
    }
  }
`);

export interface CurrentProject {
  id: string;
  slug: string;
  name: string;
  /** The viewer's roles in this project. */
  roles: ProjectRole[];
  /** A platform ADMIN may do everything in every project but approve. */
  platformAdmin: boolean;
  canWrite: boolean;
  canAdmin: boolean;
  canApprove: boolean;
}

export interface ViewerInfo {
  sub: string;
  name: string | null;
  platformAdmin: boolean;
  projects: { id: string; slug: string; name: string; roles: ProjectRole[] }[];
}

const ProjectCtx = createContext<{ project: CurrentProject; viewer: ViewerInfo } | null>(null);

export function useProject(): CurrentProject {
  const c = useContext(ProjectCtx);
  if (!c) throw new Error('useProject outside a /p/:project route');
  return c.project;
}
export function useViewer(): ViewerInfo {
  const c = useContext(ProjectCtx);
  if (!c) throw new Error('useViewer outside a /p/:project route');
  return c.viewer;
}

export function useViewerQuery() {
  const [result, reexecute] = useQuery({ query: ViewerQuery });
  // The gateway closes the socket when the viewer's memberships change (1012): read the roles again.
  const generation = useLinkGeneration();
  useEffect(() => {
    if (generation > 0) reexecute({ requestPolicy: 'network-only' });
  }, [generation, reexecute]);
  const viewer = useMemo<ViewerInfo | null>(() => {
    const v = result.data?.viewer;
    if (!v) return null;
    const platformAdmin = v.roles.includes('ADMIN');
    const byId = new Map(v.projects.map((m) => [m.project.id, { ...m.project, roles: m.roles }]));
    for (const e of result.data?.projects.edges ?? []) if (!byId.has(e.node.id)) byId.set(e.node.id, { ...e.node, roles: [] });
    return { sub: v.sub, name: v.name, platformAdmin, projects: [...byId.values()].sort((a, b) => a.slug.localeCompare(b.slug)) };
  }, [result.data]);
  return { viewer, fetching: result.fetching, error: result.error };
}

/** Resolves /p/:project (a slug) against what the viewer may see and provides it below. */
export function ProjectScope({ children }: { children: ReactNode }) {
  const { project: slug } = useParams();
  const { viewer, fetching, error } = useViewerQuery();
  if (error) return <ErrorState message={errorMessage(error)} />;
  if (!viewer) return fetching ? <Loading label="Loading your projects" /> : null;
  const p = viewer.projects.find((x) => x.slug === slug);
  if (!p) return <Empty title={`No project "${slug}"`}>It does not exist or you are not a member. Pick one in the project switcher.</Empty>;
  const has = (r: ProjectRole) => p.roles.includes(r);
  const project: CurrentProject = {
    ...p,
    platformAdmin: viewer.platformAdmin,
    canWrite: viewer.platformAdmin || has('DEVELOPER') || has('ADMIN'),
    canAdmin: viewer.platformAdmin || has('ADMIN'),
    canApprove: has('APPROVAL_ADMIN'),
  };
  return <ProjectCtx.Provider value={{ project, viewer }}>{children}</ProjectCtx.Provider>;
}
