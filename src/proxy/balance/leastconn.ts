/**
 * `balance leastconn` (HAProxy's lb_fwlc.c): the server with the lowest load relative to its
 * weight takes the connection, round-robin among equally loaded servers.
 *
 * The load key is HAProxy's: 0 for an idle server, else floor((conns + 1) × 4096 / (weight × 16)),
 * i.e. what the server's conns/weight ratio would become with one more connection — so idle
 * servers always come first whatever their weight, and a heavier server takes proportionally
 * more connections.
 *
 * Ties go round-robin: a server that is picked or whose load changes goes behind the others of
 * its key (HAProxy re-inserts it last among equal keys), so equally loaded servers take turns
 * even when the caller counts the connection only later.
 *
 * Once the caller reports load changes through loadChanged(), the servers are kept in a heap
 * ordered by (key, turn): O(log n) picks. Before that, each pick scans the servers: O(n).
 */
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { type HeapItem, IndexedHeap } from './heap.ts'
import { effectiveWeight, PoolBalancer } from './pool.ts'

/** HAProxy's fwlc key for `conns` connections on a server of weight `weight` (1..256). */
export function leastConnKey (conns: number, weight: number): number {
  return conns > 0 ? Math.floor((conns + 1) * 256 / weight) : 0
}

class LcNode implements HeapItem {
  readonly server: BalancedServer
  heapPos = -1
  key = 0
  /** Turn among equal keys: lower goes first. */
  turn = 0

  constructor (server: BalancedServer) {
    this.server = server
  }
}

function before (a: LcNode, b: LcNode): boolean {
  return a.key < b.key || (a.key === b.key && a.turn < b.turn)
}

export class LeastConnBalancer extends PoolBalancer {
  readonly algorithm = 'leastconn'
  readonly dynamic = true
  private readonly nodes: LcNode[]
  private active: LcNode[] = []
  private readonly heap = new IndexedHeap<LcNode>(before)
  /** True once the caller has called loadChanged(): keys are kept current in the heap. */
  private indexed = false
  private turns = 0

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    super(servers, opts)
    // First turns in declaration order: among idle servers the first declared goes first.
    this.nodes = this.servers.map((s, i) => {
      const node = new LcNode(s)
      node.turn = i
      return node
    })
    this.turns = this.nodes.length
    this.refresh()
  }

  override loadChanged (server: BalancedServer): void {
    if (!this.indexed) {
      this.indexed = true
      this.reindex()
      return
    }
    const i = this.index.get(server)
    if (i === undefined) return
    const node = this.nodes[i] as LcNode
    if (!this.heap.has(node)) return
    const key = this.keyOf(node)
    if (key === node.key) return
    node.key = key
    node.turn = ++this.turns
    this.heap.update(node)
  }

  protected rebuild (eligible: readonly BalancedServer[]): void {
    this.active = eligible.map(s => this.nodes[this.index.get(s) as number] as LcNode)
    if (this.indexed) this.reindex()
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const top = this.indexed ? this.heap.peek() : undefined
    const chosen = top !== undefined && (avoid === undefined || !avoid.has(top.server)) ? top : this.scan(avoid)
    chosen.turn = ++this.turns
    if (this.indexed) this.heap.update(chosen)
    return chosen.server
  }

  /** The least loaded node (not avoided, unless all are), reading the current connection counts. */
  private scan (avoid: ReadonlySet<BalancedServer> | undefined): LcNode {
    let best: LcNode | undefined
    let fallback: LcNode | undefined
    for (const node of this.active) {
      if (!this.indexed) node.key = this.keyOf(node)
      if (avoid !== undefined && avoid.has(node.server)) {
        if (fallback === undefined || before(node, fallback)) fallback = node
        continue
      }
      if (best === undefined || before(node, best)) best = node
    }
    return (best ?? fallback) as LcNode
  }

  private keyOf (node: LcNode): number {
    return leastConnKey(node.server.activeConnections, effectiveWeight(node.server))
  }

  private reindex (): void {
    this.heap.clear()
    for (const node of this.active) {
      node.key = this.keyOf(node)
      this.heap.push(node)
    }
  }
}
