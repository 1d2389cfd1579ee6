import { layoutElkGraph } from '../../ui/run-graph/layout';

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 56;

export interface GraphStage {
  refId: string;
  dependsOn: string[];
}

export type Positions = Record<string, { x: number; y: number }>;

/** Only dependencies on stages that exist (a dangling one is a validation error, not an edge). */
export function edgesOf(stages: GraphStage[]): { source: string; target: string }[] {
  const known = new Set(stages.map((s) => s.refId));
  return stages.flatMap((s) => [...new Set(s.dependsOn)].filter((d) => known.has(d) && d !== s.refId).map((d) => ({ source: d, target: s.refId })));
}

/** Left to right by depth (longest path from a root): drawn at once, until elk's layout arrives. */
export function quickLayout(stages: GraphStage[]): Positions {
  const deps = new Map(stages.map((s) => [s.refId, s.dependsOn]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(deps.get(id) ?? []).filter((x) => deps.has(x)).map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const out: Positions = {};
  for (const s of stages) {
    const d = depthOf(s.refId);
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    out[s.refId] = { x: d * (NODE_WIDTH + 50), y: row * (NODE_HEIGHT + 30) };
  }
  return out;
}

/**
 * elk's layered layout, left to right. elk (1.6 MB of script) is not in the console's start
 * bundle: it is loaded with the first layout, in the Web Worker the run pages' graphs use too
 * (ui/run-graph), and the quick layout is drawn meanwhile.
 */
export async function elkLayout(stages: GraphStage[]): Promise<Positions> {
  const result = await layoutElkGraph({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: stages.map((s) => ({ id: s.refId, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edgesOf(stages).map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.target] })),
  });
  const out: Positions = {};
  for (const c of result.children ?? []) out[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return out;
}
