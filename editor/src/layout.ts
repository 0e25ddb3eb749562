/** Auto-layout with dagre: top to bottom, in the order links are followed. */
import dagre from '@dagrejs/dagre';
import { TRIGGER, type EditorGraph } from './graph';

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 78;

export function autoLayout(graph: EditorGraph): EditorGraph {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  g.setNode(TRIGGER, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const s of graph.steps) g.setNode(s.uid, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const l of graph.links) if (g.hasNode(l.from) && g.hasNode(l.to)) g.setEdge(l.from, l.to);
  dagre.layout(g);
  const positions: EditorGraph['positions'] = {};
  for (const id of g.nodes()) {
    const n = g.node(id);
    positions[id] = { x: n.x - NODE_WIDTH / 2, y: n.y - NODE_HEIGHT / 2 };
  }
  return { ...graph, positions };
}
