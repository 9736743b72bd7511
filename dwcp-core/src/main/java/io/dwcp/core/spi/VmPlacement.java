package io.dwcp.core.spi;

import java.util.Objects;

/**
 * Where a VM runs, as the cluster metadata records it.
 *
 * @param site the site (region) the VM runs in
 * @param node the node (host) inside that site
 */
public record VmPlacement(String site, String node) {
    /**
     * Checks the components.
     *
     * @param site the site, not null
     * @param node the node, not null
     */
    public VmPlacement {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(node, "node");
    }
}
