import type { LoggedEvent, TreeNode } from '../../../libs/client/src';
import { buildTree } from './correlation-tree';

const event = (event_id: string, parent_id: string | null): LoggedEvent => ({
  event_id,
  parent_id,
  correlation_id: 'c',
  event_name: `e:${event_id}`,
  timestamp: 0,
  client_id: null,
  agent_id: null,
  session_id: null,
  source: 'internal',
  outcome: null,
  duration_ms: null,
  node_id: null,
  data: {},
});
const shape = (nodes: TreeNode[]): unknown[] => nodes.map((node) => (node.children.length ? { [node.event_id]: shape(node.children) } : node.event_id));

describe('buildTree', () => {
  it('nests each event under its cause, keeping the given order', () => {
    const tree = buildTree([event('a', null), event('b', 'a'), event('c', 'a'), event('d', 'b')]);
    expect(shape(tree)).toEqual([{ a: [{ b: ['d'] }, 'c'] }]);
    expect(tree[0].event_name).toBe('e:a');
  });

  it('nests a child listed before its parent', () => {
    expect(shape(buildTree([event('b', 'a'), event('a', null)]))).toEqual([{ a: ['b'] }]);
  });

  it('makes an event whose cause is missing a root of its own', () => {
    expect(shape(buildTree([event('a', null), event('b', 'gone'), event('c', 'b')]))).toEqual(['a', { b: ['c'] }]);
  });

  it('returns no roots for no events', () => {
    expect(buildTree([])).toEqual([]);
  });

  it('keeps every event exactly once when causes loop, and the result serialises', () => {
    const self = buildTree([event('a', 'a')]);
    expect(shape(self)).toEqual(['a']);
    const loop = buildTree([event('a', 'b'), event('b', 'a'), event('c', 'b')]);
    expect(JSON.stringify(loop).match(/"event_id"/g)).toHaveLength(3);
    expect(shape(loop)).toEqual([{ a: [{ b: ['c'] }] }]);
    expect(shape(buildTree([event('x', 'b'), event('b', 'c'), event('c', 'b')]))).toEqual([{ b: ['x', 'c'] }]);
  });
});
