package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Adoption of placement plans, on any {@link Consensus}: which plan is in force, changed only by a planner that saw
 * the plan it replaces.
 *
 * <p>The plan in force is the register {@code plan/<scope>/current} holding the plan's id. A planner reads it
 * ({@link #current}), computes a new plan from the placement that plan describes, and adopts its plan with
 * {@link #adopt}: a compare-and-set from the plan it started from. Two planners that started from the same plan cannot
 * both win — the second learns the winner and must re-plan from it — so a plan computed on a stale view is never
 * adopted. The version of the adopted value is the plan's epoch: executors that apply moves can refuse a plan whose
 * epoch is below one they have seen.
 *
 * <pre>{@code
 * PlacementPlans plans = new PlacementPlans(dwcp.consensus(), "eu");
 * Versioned base = plans.current().get();
 * CasResult r = plans.adopt(base.value(), "plan-18").get();
 * if (r.applied()) { ... execute plan-18, epoch r.current().version() ... } else { ... re-plan from r.current() ... }
 * }</pre>
 *
 * <p>Thread-safe (stateless apart from its {@link Consensus}).
 */
public final class PlacementPlans {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final Consensus consensus;
    private final String key;

    /**
     * @param consensus the register service
     * @param scope what the plans place (a site, a region, "all"), 1–64 characters {@code [A-Za-z0-9._-]}
     */
    public PlacementPlans(Consensus consensus, String scope) {
        this.consensus = Objects.requireNonNull(consensus, "consensus");
        if (scope == null || !scope.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("scope must be 1–64 characters [A-Za-z0-9._-], got " + scope);
        }
        this.key = "plan/" + scope + "/current";
    }

    /** {@return the register key of the plan in force} */
    public String key() {
        return key;
    }

    /**
     * The plan in force and its epoch (a linearizable read).
     *
     * @return the plan id and epoch; absent before the first adoption
     */
    public CompletableFuture<Versioned> current() {
        return consensus.read(key);
    }

    /**
     * Adopts {@code planId} if the plan in force is still {@code basedOn}.
     *
     * @param basedOn the plan the new one was computed from; {@code null} when none was in force
     * @param planId the new plan's id, 1–128 characters {@code [A-Za-z0-9._:-]}
     * @return applied with the new plan's epoch, or not applied with the plan actually in force
     */
    public CompletableFuture<CasResult> adopt(String basedOn, String planId) {
        if (planId == null || !ID.matcher(planId).matches()) {
            throw new IllegalArgumentException("plan id must be 1–128 characters [A-Za-z0-9._:-], got " + planId);
        }
        if (planId.equals(basedOn)) {
            throw new IllegalArgumentException("plan '" + planId + "' cannot replace itself");
        }
        return consensus.compareAndSet(key, basedOn, planId);
    }
}
