package io.dwcp.core.placement;

import java.util.Objects;

/**
 * One migration of a move plan.
 *
 * @param vm the VM id
 * @param fromSite where it lives now
 * @param toSite where it goes
 * @param stateBytes the bytes the migration moves
 */
public record Move(String vm, String fromSite, String toSite, long stateBytes) {
    /**
     * Checks the ids.
     *
     * @param vm the VM id
     * @param fromSite where it lives now
     * @param toSite where it goes
     * @param stateBytes the bytes the migration moves
     * @throws NullPointerException when an id is null
     */
    public Move {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(fromSite, "fromSite");
        Objects.requireNonNull(toSite, "toSite");
    }
}
