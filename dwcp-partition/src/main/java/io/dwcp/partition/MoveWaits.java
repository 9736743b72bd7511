package io.dwcp.partition;

/*
 * The exact saving that waits for the transfers of a plan (MoveTime.waiting per VM), kept up to date as VMs move:
 * a VM's share depends on where its neighbours are, so a move changes its own share and its neighbours'. Part of
 * BudgetedMoves; not thread-safe.
 */
final class MoveWaits {
    private final PlacementEngine e;
    private final int[] current;
    private final MoveTime time;
    final double[] wait;
    final int[] members = new int[1];
    double total;

    MoveWaits(PlacementEngine e, int[] current, int[] plan, MoveTime time) {
        this.e = e;
        this.current = current;
        this.time = time;
        this.wait = new double[e.n];
        if (time.known()) {
            for (int v = 0; v < e.n; v++) {
                wait[v] = time.waiting(e, current, plan, v);
                total += wait[v];
            }
        }
    }

    /** After {@code vs[0..size)} moved in {@code plan}: recomputes their shares and their neighbours'; the change. */
    double update(int[] plan, int[] vs, int size) {
        if (!time.known()) {
            return 0;
        }
        double before = total;
        for (int i = 0; i < size; i++) {
            int v = vs[i];
            refresh(plan, v);
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                refresh(plan, e.adj[x]);
            }
        }
        return total - before;
    }

    private void refresh(int[] plan, int v) {
        double w = time.waiting(e, current, plan, v);
        total += w - wait[v];
        wait[v] = w;
    }
}
