package io.dwcp.core.placement;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The answer of a {@link io.dwcp.core.spi.Placer}: where each VM lives, what that predicts, and the ordered moves that
 * lead there from the current placement.
 *
 * @param placement VM id → site id, every VM of the model
 * @param crossSiteBytesPerSecond predicted traffic between VMs on different sites, in bytes per second
 * @param costWeightedCrossSite the same traffic weighted by the model's inter-site costs
 * @param crossSiteShare cross-site traffic ÷ all traffic (0 when there is no traffic)
 * @param imbalance load-imbalance factor: the largest site CPU utilisation ÷ the overall CPU utilisation − 1
 * @param moves the migrations from the current placement, in an order that keeps every site within its capacities
 *     after each step; empty for a first placement
 * @param outcome what the planner decided
 * @param nodePlacement VM id → node id for the VMs on sites that have nodes in the model; empty otherwise
 */
public record PlacementPlan(Map<String, String> placement, double crossSiteBytesPerSecond, double costWeightedCrossSite,
                            double crossSiteShare, double imbalance, List<Move> moves, Outcome outcome,
                            Map<String, String> nodePlacement) {
    /** What a planning call decided. */
    public enum Outcome {
        /** A first placement (no current placement given), or a rebalance whose moves are worth their bytes. */
        APPLIED,
        /** The observed cross-site share and imbalance were below the thresholds: no new plan, no moves. */
        BELOW_THRESHOLD,
        /** A better placement exists, but the traffic it saves over the planning horizon does not pay its moves. */
        NOT_WORTH_IT
    }

    /**
     * Copies the placement and the moves.
     *
     * @param placement VM id → site id, every VM of the model
     * @param crossSiteBytesPerSecond predicted traffic between VMs on different sites, in bytes per second
     * @param costWeightedCrossSite the same traffic weighted by the model's inter-site costs
     * @param crossSiteShare cross-site traffic ÷ all traffic (0 when there is no traffic)
     * @param imbalance load-imbalance factor: the largest site CPU utilisation ÷ the overall CPU utilisation − 1
     * @param moves the migrations from the current placement, in execution order
     * @param outcome what the planner decided
     * @param nodePlacement VM id → node id for the VMs on sites with nodes
     */
    public PlacementPlan {
        placement = Map.copyOf(placement);
        nodePlacement = Map.copyOf(nodePlacement);
        moves = List.copyOf(moves);
        Objects.requireNonNull(outcome, "outcome");
    }

    /**
     * A plan without node placement.
     *
     * @param placement VM id → site id, every VM of the model
     * @param crossSiteBytesPerSecond predicted traffic between VMs on different sites, in bytes per second
     * @param costWeightedCrossSite the same traffic weighted by the model's inter-site costs
     * @param crossSiteShare cross-site traffic ÷ all traffic (0 when there is no traffic)
     * @param imbalance load-imbalance factor
     * @param moves the migrations from the current placement, in execution order
     * @param outcome what the planner decided
     */
    public PlacementPlan(Map<String, String> placement, double crossSiteBytesPerSecond, double costWeightedCrossSite,
                         double crossSiteShare, double imbalance, List<Move> moves, Outcome outcome) {
        this(placement, crossSiteBytesPerSecond, costWeightedCrossSite, crossSiteShare, imbalance, moves, outcome, Map.of());
    }

    /**
     * The bytes all moves transfer.
     *
     * @return the sum of the moves' state bytes
     */
    public long bytesToMove() {
        long sum = 0;
        for (Move m : moves) {
            sum += m.stateBytes();
        }
        return sum;
    }
}
