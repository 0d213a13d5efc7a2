import { invalidArgument, isArrayValue, rejectUnknownKeys, type TendError } from "../errors/index.ts";
import { PARENT_FAILURE_POLICIES, type ParentFailurePolicy } from "../store/index.ts";
import { ENQUEUE_ITEM_KEYS, type EnqueueItem } from "./enqueue.ts";

/**
 * One job of a flow: a job that runs after its `children` (each a flow of its own), so that a
 * tree runs from the leaves up to its root, as BullMQ flows do. In the store a node's children are
 * its parents (the jobs it runs after; see `after`), and the node's handler reads their results
 * with `ctx.afterResults()`.
 */
export interface FlowNode extends EnqueueItem {
  /** Jobs enqueued with this one, that must complete before it runs. */
  children?: readonly FlowNode[];
  /**
   * What a child that is discarded or cancelled does to this job: `"cancel"` (default) cancels
   * it (and the jobs above it); `"run"` runs it anyway once every child has finished.
   */
  onChildFailure?: ParentFailurePolicy;
}

/** The ids of an enqueued flow, shaped as the flow was. */
export interface FlowResult {
  id: string;
  children: FlowResult[];
}

/** The deepest a flow may be, and the most jobs it may hold. */
export const MAX_FLOW_DEPTH = 100;
export const MAX_FLOW_JOBS = 10_000;

/** One job of a flattened flow: its item, and the positions (in the list) of the jobs it runs after. */
export interface FlatFlowJob {
  item: EnqueueItem;
  /** The node's path in the flow, for messages: `flow`, `flow.children[1]`, ... */
  path: string;
  afterIndexes: number[];
  onParentFailure: ParentFailurePolicy | undefined;
}

const NODE_KEYS = new Set<string>([...ENQUEUE_ITEM_KEYS, "children", "onChildFailure"]);

/**
 * Pure: a flow in the order its jobs are inserted (children before the job that runs after them,
 * so that each names only earlier positions), checked: each node an object with known keys, no
 * node object twice (a cycle or a shared child: TEND_E_INVALID_JOB_FLOW), at most MAX_FLOW_DEPTH
 * deep and MAX_FLOW_JOBS jobs. The root is last.
 *
 * @example
 * ```ts
 * flattenFlow({ kind: "report", children: [{ kind: "part" }, { kind: "part" }] }).map((j) => j.afterIndexes);
 * // [[], [], [0, 1]]
 * ```
 */
export function flattenFlow(flow: FlowNode): FlatFlowJob[] {
  const out: FlatFlowJob[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown, path: string, depth: number): number => {
    if (node === null || typeof node !== "object" || isArrayValue(node))
      throw flowError(path, node, "a flow node { kind, payload?, children? }");
    if (seen.has(node))
      throw flowError(
        path,
        "(a node seen before)",
        "each node object once in the tree (no cycle, no shared child)",
      );
    seen.add(node);
    if (depth > MAX_FLOW_DEPTH) throw flowError(path, `depth ${depth}`, `at most ${MAX_FLOW_DEPTH} levels`);
    rejectUnknownKeys(() => path, node as Record<string, unknown>, NODE_KEYS);
    const { children, onChildFailure, ...item } = node as FlowNode;
    if (children !== undefined && !isArrayValue(children))
      throw flowError(`${path}.children`, children, "an array of flow nodes");
    if (
      onChildFailure !== undefined &&
      !(PARENT_FAILURE_POLICIES as readonly unknown[]).includes(onChildFailure)
    )
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        `${path}.onChildFailure`,
        onChildFailure,
        `one of ${PARENT_FAILURE_POLICIES.map((p) => `"${p}"`).join(", ")}`,
      );
    // A for loop, not map: map skips the holes of a sparse array, which must fail like any bad node.
    const afterIndexes: number[] = [];
    const kids = children ?? [];
    for (let i = 0; i < kids.length; i++)
      afterIndexes.push(visit(kids[i], `${path}.children[${i}]`, depth + 1));
    if (afterIndexes.length > 0 && item.uniqueKey !== undefined)
      throw invalidArgument(
        "TEND_E_INVALID_JOB_OPTIONS",
        `${path}.uniqueKey`,
        item.uniqueKey,
        "no unique key on a node with children",
      );
    if (out.length >= MAX_FLOW_JOBS)
      throw flowError(path, `more than ${MAX_FLOW_JOBS} jobs`, `at most ${MAX_FLOW_JOBS} jobs`);
    out.push({
      item,
      path,
      afterIndexes,
      onParentFailure: afterIndexes.length > 0 ? onChildFailure : undefined,
    });
    return out.length - 1;
  };
  visit(flow, "flow", 1);
  return out;
}

/** Pure: the tree of ids of a flattened flow, from its insert results (root last). */
export function flowResult(flat: readonly FlatFlowJob[], ids: readonly string[]): FlowResult {
  const build = (i: number): FlowResult => ({ id: ids[i]!, children: flat[i]!.afterIndexes.map(build) });
  return build(flat.length - 1);
}

function flowError(path: string, value: unknown, expected: string): TendError {
  return invalidArgument("TEND_E_INVALID_JOB_FLOW", path, value, expected);
}
