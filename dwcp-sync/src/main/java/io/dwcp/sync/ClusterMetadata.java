package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;
import io.dwcp.core.time.HybridLogicalClock;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.LwwRegister;
import io.dwcp.sync.crdt.MvRegister;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.PNCounter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The ready-made cluster-metadata schema over a {@link ReplicatedStore}: one OR-Map per VM at
 * {@code vm/<id>} (fields {@code site}, {@code node}, {@code baseline}: LWW-Registers; {@code phase}: an MV-Register, so
 * concurrent phase changes from two sites are both visible), one OR-Map per node at {@code node/<id>} ({@code status},
 * {@code region}: LWW-Registers), and PN-Counters for totals at {@code total/<name>}. Applications may add their own
 * keys beside these prefixes. Its VM part is the core {@link VmMetadata} that {@code DwcpManager.migration} records
 * into and the placer reads ({@link AssSync#vmMetadata()}).
 *
 * <pre>{@code
 * ClusterMetadata meta = new ClusterMetadata(sync.store(), sync.clock());
 * meta.assign("vm-17", "eu-west", "node-4");
 * meta.migrationPhase("vm-17", "PRECOPY");
 * Optional<ClusterMetadata.Vm> vm = meta.vm("vm-17");
 * }</pre>
 *
 * <p>Thread-safe (the store is).
 */
public final class ClusterMetadata implements VmMetadata {
    /** Key prefix of the VM records ({@code vm/<id>}). */
    public static final String VM_PREFIX = "vm/";
    /** Key prefix of the node records ({@code node/<id>}). */
    public static final String NODE_PREFIX = "node/";
    /** Key prefix of the totals ({@code total/<name>}). */
    public static final String TOTAL_PREFIX = "total/";

    private final ReplicatedStore store;
    private final HybridLogicalClock hlc;

    /**
     * A view over {@code store}; LWW fields are stamped by {@code hlc}.
     *
     * @param store the replicated store holding the schema's keys
     * @param hlc the clock stamping LWW-Register writes (normally {@link AssSync#clock()})
     * @throws NullPointerException when either is null
     */
    public ClusterMetadata(ReplicatedStore store, HybridLogicalClock hlc) {
        this.store = Objects.requireNonNull(store, "store");
        this.hlc = Objects.requireNonNull(hlc, "hlc");
    }

    /**
     * A VM's record.
     *
     * @param site site the VM runs in, empty when never assigned
     * @param node node the VM runs on, empty when never assigned
     * @param phases migration phases written concurrently (one value when no conflict; empty when never set)
     * @param baseline baseline version of the VM's state, empty when never set
     */
    public record Vm(Optional<String> site, Optional<String> node, List<String> phases, Optional<String> baseline) {
    }

    /**
     * Assigns a VM to a site and node (last writer wins).
     *
     * @param vmId the VM id
     * @param site the site, not null
     * @param node the node, not null
     */
    @Override
    public void assign(String vmId, String site, String node) {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(node, "node");
        writeField(VM_PREFIX + vmId, "site", site);
        writeField(VM_PREFIX + vmId, "node", node);
    }

    /**
     * Records a VM's migration phase; concurrent writes from several replicas are all kept until one supersedes them.
     *
     * @param vmId the VM id
     * @param phase the phase name, not null
     */
    @Override
    public void migrationPhase(String vmId, String phase) {
        Objects.requireNonNull(phase, "phase");
        String r = store.replicaId();
        store.update(VM_PREFIX + vmId, OrMap.EMPTY, m -> m.updateDelta(r, "phase", MvRegister.EMPTY, v -> v.writeDelta(r, phase)));
    }

    /**
     * Records the baseline version of a VM's state (what delta migration builds on).
     *
     * @param vmId the VM id
     * @param version the baseline version, not null
     */
    @Override
    public void baselineVersion(String vmId, String version) {
        Objects.requireNonNull(version, "version");
        writeField(VM_PREFIX + vmId, "baseline", version);
    }

    @Override
    public Optional<VmPlacement> placement(String vmId) {
        return vm(vmId).flatMap(ClusterMetadata::placementOf);
    }

    /**
     * {@inheritDoc} Keys under {@code vm/} that hold no VM record (another type) are skipped.
     */
    @Override
    public Map<String, VmPlacement> placements() {
        Map<String, VmPlacement> out = new TreeMap<>();
        for (String k : store.keys()) {
            if (k.startsWith(VM_PREFIX) && store.get(k).filter(OrMap.class::isInstance).isPresent()) {
                String vm = k.substring(VM_PREFIX.length());
                vm(vm).flatMap(ClusterMetadata::placementOf).ifPresent(p -> out.put(vm, p));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public List<String> migrationPhases(String vmId) {
        return vm(vmId).map(v -> v.phases().stream().sorted().toList()).orElse(List.of());
    }

    @Override
    public Optional<String> baselineVersion(String vmId) {
        return vm(vmId).flatMap(Vm::baseline);
    }

    /** A record's placement: both site and node written. */
    private static Optional<VmPlacement> placementOf(Vm v) {
        return v.site().isPresent() && v.node().isPresent()
                ? Optional.of(new VmPlacement(v.site().get(), v.node().get())) : Optional.empty();
    }

    /**
     * Removes a VM's record everywhere (a concurrent update of it survives).
     *
     * @param vmId the VM id
     */
    public void forgetVm(String vmId) {
        store.remove(VM_PREFIX + vmId);
    }

    /**
     * A VM's record, empty when unknown or removed.
     *
     * @param vmId the VM id
     * @return the record, or empty
     * @throws DwcpException {@code TYPE_MISMATCH} when the key {@code vm/<vmId>} holds another type than a VM record
     */
    public Optional<Vm> vm(String vmId) {
        return store.get(VM_PREFIX + vmId).map(c -> {
            if (!(c instanceof OrMap m)) {
                throw new DwcpException(ErrorCode.TYPE_MISMATCH, "key '" + VM_PREFIX + vmId + "' holds a " + c.type()
                        + ", not the OR-Map of a VM record");
            }
            return new Vm(lww(m, "site"), lww(m, "node"),
                    m.get("phase").map(p -> ((MvRegister) p).value()).orElse(List.of()), lww(m, "baseline"));
        });
    }

    /**
     * The VMs whose node is {@code nodeId}, sorted (scans the VM records).
     *
     * @param nodeId the node id
     * @return the ids of the VMs assigned to it
     */
    public List<String> vmsOn(String nodeId) {
        List<String> out = new ArrayList<>();
        placements().forEach((vm, p) -> {
            if (p.node().equals(nodeId)) {
                out.add(vm);
            }
        });
        return out;
    }

    /**
     * Sets a node's status and region (last writer wins per field).
     *
     * @param nodeId the node id
     * @param status the status, not null
     * @param region the region, not null
     */
    public void nodeStatus(String nodeId, String status, String region) {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(region, "region");
        writeField(NODE_PREFIX + nodeId, "status", status);
        writeField(NODE_PREFIX + nodeId, "region", region);
    }

    /**
     * A node's status, empty when unknown.
     *
     * @param nodeId the node id
     * @return the last status written, or empty
     */
    public Optional<String> nodeStatus(String nodeId) {
        return store.get(NODE_PREFIX + nodeId).flatMap(c -> lww((OrMap) c, "status"));
    }

    /**
     * Adds {@code delta} to the total {@code name}.
     *
     * @param name the total's name
     * @param delta the amount to add; negative subtracts
     */
    public void addToTotal(String name, long delta) {
        String r = store.replicaId();
        store.update(TOTAL_PREFIX + name, PNCounter.EMPTY, c -> c.addDelta(r, delta));
    }

    /**
     * The total {@code name}, 0 when never set.
     *
     * @param name the total's name
     * @return the sum of every replica's additions
     */
    public long total(String name) {
        return store.get(TOTAL_PREFIX + name).map(c -> ((PNCounter) c).value()).orElse(0L);
    }

    /** Writes one LWW-Register field of the OR-Map at {@code key}. */
    private void writeField(String key, String field, String value) {
        String r = store.replicaId();
        store.update(key, OrMap.EMPTY, m -> m.updateDelta(r, field, LwwRegister.EMPTY, v -> v.writeDelta(r, value, hlc)));
    }

    private static Optional<String> lww(OrMap m, String field) {
        Optional<Crdt<?>> v = m.get(field);
        return v.flatMap(c -> ((LwwRegister) c).value());
    }
}
