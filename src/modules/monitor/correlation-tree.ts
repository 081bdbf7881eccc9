import type { LoggedEvent, TreeNode } from '../../../libs/client/src';

/**
 * Nests events under the event that caused them, in the order given. An event whose cause is not in
 * the list is a root, and so is the first event of a loop of causes (rows can be edited by hand):
 * every event appears exactly once and the tree stays serialisable.
 */
export function buildTree(events: LoggedEvent[]): TreeNode[] {
  const nodes = new Map(events.map((event) => [event.event_id, { ...event, children: [] as TreeNode[] }]));
  const roots = new Set<TreeNode>();
  const causeOf = (node: TreeNode) => (roots.has(node) || !node.parent_id ? undefined : nodes.get(node.parent_id));
  const loops = (node: TreeNode, parent: TreeNode) => {
    const seen = new Set<TreeNode>();
    for (let current: TreeNode | undefined = parent; current && !seen.has(current); current = causeOf(current)) {
      if (current === node) return true;
      seen.add(current);
    }
    return false;
  };
  for (const node of nodes.values()) {
    const parent = causeOf(node);
    if (parent && !loops(node, parent)) parent.children.push(node);
    else roots.add(node);
  }
  return [...roots];
}
