/**
 * The canvas: the trigger and the steps as React Flow nodes, links as edges
 * from a step's named outlets (next, each route, otherwise, on error). In a
 * run, each node shows its step's status.
 */
import { applyNodeChanges, Background, Controls, Handle, MiniMap, Position, ReactFlow, type Connection, type Edge, type Node, type NodeChange, type NodeProps } from '@xyflow/react';
import { memo, useEffect, useMemo, useState } from 'react';
import type { StepState } from './api';
import { outletsOf, STEP_TYPE_TITLES, TRIGGER, type EditorGraph, type Obj, type StepType } from './graph';
import { NODE_WIDTH } from './layout';

export interface NodeData extends Record<string, unknown> {
  kind: 'trigger' | 'step';
  title: string;
  subtitle: string;
  typeLabel: string;
  outlets: { outlet: string; label: string }[];
  problems: number;
  status?: string;
}

export function triggerSummary(trigger: Obj): string {
  switch (trigger.type) {
    case 'event':
      return trigger.event ? `on ${trigger.event}` : 'on an event (choose one)';
    case 'api':
      return 'API call';
    case 'schedule':
      return trigger.cron ? `cron ${trigger.cron}` : trigger.interval ? `every ${trigger.interval}` : 'on a schedule';
    default:
      return String(trigger.type);
  }
}

function WorkflowNode({ data, selected }: NodeProps<Node<NodeData>>) {
  const status = data.status;
  return (
    <div
      className={`wf-node ${data.kind} ${selected ? 'selected' : ''} ${data.problems > 0 ? 'has-problems' : ''} ${status ? `status-${status}` : ''}`}
      style={{ width: NODE_WIDTH }}
      aria-label={`${data.typeLabel}: ${data.title}${status ? `, ${status}` : ''}${data.problems ? `, ${data.problems} problem(s)` : ''}`}
      data-testid={`node-${data.subtitle}`}
    >
      {data.kind === 'step' && <Handle type="target" position={Position.Top} />}
      <div className="wf-node-type">
        {data.typeLabel}
        {status && <span className={`badge status-${status}`}>{status}</span>}
        {data.problems > 0 && !status && <span className="badge problems">{data.problems} ⚠</span>}
      </div>
      <div className="wf-node-title">{data.title}</div>
      <div className="wf-node-id mono">{data.subtitle}</div>
      <div className="wf-outlets">
        {data.outlets.map((o, i) => (
          <div key={o.outlet} className="wf-outlet" style={{ left: `${((i + 1) / (data.outlets.length + 1)) * 100}%` }}>
            {data.outlets.length > 1 && <span className="wf-outlet-label">{o.label}</span>}
            <Handle type="source" id={o.outlet} position={Position.Bottom} style={{ left: '50%' }} />
          </div>
        ))}
      </div>
    </div>
  );
}

const nodeTypes = { workflow: memo(WorkflowNode) };

export function stepTitle(step: Obj, actionTitles: Map<string, string>): string {
  if (step.name) return step.name;
  if (step.type === 'action') return actionTitles.get(step.action) ?? step.action ?? 'Action';
  return STEP_TYPE_TITLES[step.type as StepType] ?? step.type;
}

export function Canvas({
  graph,
  selected,
  onSelect,
  problemsByUid,
  statusByUid,
  actionTitles,
  readOnly,
  onConnect,
  onMove,
  onDeleteNodes,
  onDeleteEdges,
}: {
  graph: EditorGraph;
  selected: string | null;
  onSelect: (uid: string | null) => void;
  problemsByUid: Map<string, number>;
  statusByUid?: Map<string, StepState>;
  actionTitles: Map<string, string>;
  readOnly?: boolean;
  onConnect?: (c: { from: string; outlet: string; to: string }) => void;
  onMove?: (uid: string, position: { x: number; y: number }) => void;
  onDeleteNodes?: (uids: string[]) => void;
  onDeleteEdges?: (edges: { from: string; outlet: string }[]) => void;
}) {
  const computed: Node<NodeData>[] = useMemo(() => {
    const triggerNode: Node<NodeData> = {
      id: TRIGGER,
      type: 'workflow',
      position: graph.positions[TRIGGER] ?? { x: 0, y: 0 },
      selected: selected === TRIGGER,
      deletable: false,
      data: { kind: 'trigger', title: triggerSummary(graph.trigger), subtitle: 'trigger', typeLabel: 'Trigger', outlets: [{ outlet: 'start', label: 'start' }], problems: problemsByUid.get(TRIGGER) ?? 0 },
    };
    return [
      triggerNode,
      ...graph.steps.map((s) => ({
        id: s.uid,
        type: 'workflow',
        position: graph.positions[s.uid] ?? { x: 0, y: 0 },
        selected: selected === s.uid,
        data: {
          kind: 'step' as const,
          title: stepTitle(s.step, actionTitles),
          subtitle: s.step.id,
          typeLabel: s.step.type === 'action' ? `Action · ${s.step.action}` : (STEP_TYPE_TITLES[s.step.type as StepType] ?? s.step.type),
          outlets: outletsOf(s.step),
          problems: problemsByUid.get(s.uid) ?? 0,
          status: statusByUid ? (statusByUid.get(s.uid)?.status ?? 'pending') : undefined,
        },
      })),
    ];
  }, [graph, selected, problemsByUid, statusByUid, actionTitles]);

  // React Flow measures nodes and moves them while dragging: keep its view of them, refreshed from the graph.
  const [nodes, setNodes] = useState<Node<NodeData>[]>(computed);
  useEffect(() => {
    setNodes((previous) => {
      const measured = new Map(previous.map((n) => [n.id, n.measured]));
      return computed.map((n) => ({ ...n, measured: measured.get(n.id) }));
    });
  }, [computed]);

  const edges: Edge[] = useMemo(
    () =>
      graph.links.map((l) => {
        const from = graph.steps.find((s) => s.uid === l.from)?.step;
        const outlet = from ? outletsOf(from).find((o) => o.outlet === l.outlet) : undefined;
        const taken = statusByUid && statusByUid.get(l.to) && statusByUid.get(l.to)!.status !== 'pending' && statusByUid.get(l.to)!.status !== 'skipped';
        return {
          id: `${l.from}:${l.outlet}`,
          source: l.from,
          sourceHandle: l.outlet,
          target: l.to,
          label: outlet && outletsOf(from!).length > 1 ? outlet.label : undefined,
          animated: !!taken,
          className: l.outlet.startsWith('catch') ? 'edge-catch' : undefined,
          deletable: !readOnly,
        };
      }),
    [graph, statusByUid, readOnly],
  );

  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      fitView
      fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
      minZoom={0.2}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
      onNodeClick={(_, n) => onSelect(n.id)}
      onPaneClick={() => onSelect(null)}
      onConnect={(c: Connection) => c.source && c.target && c.target !== TRIGGER && onConnect?.({ from: c.source, outlet: c.sourceHandle ?? 'next', to: c.target })}
      onNodeDragStop={(_, n) => onMove?.(n.id, n.position)}
      onNodesDelete={(ns) => onDeleteNodes?.(ns.map((n) => n.id).filter((id) => id !== TRIGGER))}
      onEdgesDelete={(es) => onDeleteEdges?.(es.map((e) => ({ from: e.source, outlet: e.sourceHandle ?? 'next' })))}
      onNodesChange={(changes: NodeChange<Node<NodeData>>[]) => {
        setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), ns));
        // Selection by keyboard (Tab to a node, Enter) arrives as a change.
        for (const c of changes) if (c.type === 'select' && c.selected && c.id !== selected) onSelect(c.id);
      }}
      proOptions={{ hideAttribution: true }}
      aria-label="Workflow canvas"
    >
      <Background />
      <Controls showInteractive={false} />
      <MiniMap pannable zoomable ariaLabel="Overview of the workflow" />
    </ReactFlow>
  );
}
