package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The current placement the placer plans from, completed from the cluster's VM metadata (the sync component's
 * schema, which the migration loop updates): a VM of the model without a current site gets the site the metadata
 * records for it, when the model knows that site. A current site given in the model wins over the metadata; VMs the
 * model does not name are ignored. The metadata's node is not used: the model places nodes afresh inside each site.
 */
final class MetadataPlacement {
    private MetadataPlacement() {
    }

    /**
     * {@code model} with its current placement completed from {@code metadata}.
     *
     * @param model the model as given
     * @param metadata the cluster's VM metadata, or empty
     * @return the same model when there is nothing to add, else a copy with the added current sites
     */
    static PlacementModel complete(PlacementModel model, Optional<VmMetadata> metadata) {
        if (metadata.isEmpty()) {
            return model;
        }
        Map<String, VmPlacement> recorded = metadata.get().placements();
        Set<String> sites = new HashSet<>();
        for (Site s : model.sites()) {
            sites.add(s.id());
        }
        Map<String, String> current = new HashMap<>(model.currentPlacement());
        boolean added = false;
        for (Vm v : model.vms()) {
            VmPlacement p = recorded.get(v.id());
            if (p != null && !current.containsKey(v.id()) && sites.contains(p.site())) {
                current.put(v.id(), p.site());
                added = true;
            }
        }
        return added ? new PlacementModel(model.vms(), model.traffic(), model.sites(), model.costs(), current, model.links(),
                model.nodes()) : model;
    }
}
