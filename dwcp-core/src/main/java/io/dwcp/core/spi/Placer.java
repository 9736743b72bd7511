package io.dwcp.core.spi;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;

/**
 * Places VMs across sites so that little traffic crosses sites, no site overflows and moves pay for themselves
 * (ITP in {@code dwcp-partition}). Obtained from {@code DwcpManager.placer()}.
 *
 * <pre>{@code
 * PlacementPlan plan = dwcp.placer().place(model);
 * plan.placement().get("db");            // "eu"
 * plan.moves().forEach(m -> migrate(m));  // in order: capacities hold after every step
 * }</pre>
 *
 * <p>Capacities, pins and anti-affinity are hard constraints: a model that cannot satisfy them fails with
 * {@code INFEASIBLE}, never an overfilled site. Same model and seed give the same plan. Thread-safe; calls block the
 * caller while they compute (CPU only, no I/O).
 */
public interface Placer extends Component {
    /**
     * A placement of every VM from scratch; its moves lead from the model's current placement (if any) to it.
     *
     * @param model the VMs, traffic, sites and current placement
     * @return the plan, outcome {@code APPLIED}
     * @throws io.dwcp.core.DwcpException {@code INFEASIBLE} naming the tightest violated constraint;
     *     {@code ILLEGAL_STATE} when not running
     */
    PlacementPlan place(PlacementModel model);

    /**
     * Plans anew from the model's current placement (every VM must have one) and adopts the plan only if the cross-site
     * traffic it saves over the planning horizon exceeds the cost of its moves; otherwise the current placement comes
     * back with no moves and outcome {@code BELOW_THRESHOLD} or {@code NOT_WORTH_IT}.
     *
     * @param model the VMs, traffic, sites and the current placement of every VM
     * @return the adopted plan, or the current placement with no moves
     * @throws IllegalArgumentException when a VM has no current site
     * @throws io.dwcp.core.DwcpException {@code INFEASIBLE}; {@code ILLEGAL_STATE} when not running
     */
    PlacementPlan rebalance(PlacementModel model);
}
