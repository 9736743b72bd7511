package io.dwcp.sync;

import io.dwcp.core.time.HybridLogicalClock;
import io.dwcp.sync.crdt.OrMap;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterMetadataTest {
    private record Site(ReplicatedStore store, ClusterMetadata meta, List<String> keys, List<OrMap> deltas) {
        static Site of(String id, long ms) {
            ReplicatedStore s = new ReplicatedStore(id, 1 << 20, 100);
            List<String> keys = new ArrayList<>();
            List<OrMap> deltas = new ArrayList<>();
            s.onLocalDelta((k, d) -> {
                keys.add(k);
                deltas.add(d);
            });
            return new Site(s, new ClusterMetadata(s, new HybridLogicalClock(Clock.fixed(Instant.ofEpochMilli(ms), ZoneOffset.UTC))), keys, deltas);
        }

        void sendTo(Site other) {
            for (int i = 0; i < keys.size(); i++) {
                other.store.mergeDelta(keys.get(i), deltas.get(i));
            }
            keys.clear();
            deltas.clear();
        }
    }

    @Test
    void vmPlacementNodeStatusAndTotalsReplicateAndConcurrentPhasesAreBothKept() {
        Site a = Site.of("a", 1_000);
        Site b = Site.of("b", 2_000);
        a.meta().assign("vm-1", "eu-west", "node-1");
        a.meta().baselineVersion("vm-1", "v7");
        a.meta().nodeStatus("node-1", "HEALTHY", "eu");
        a.meta().addToTotal("vms", 1);
        a.sendTo(b);
        b.meta().assign("vm-1", "us-east", "node-9"); // later clock: wins
        b.meta().addToTotal("vms", 1);
        a.meta().migrationPhase("vm-1", "PRECOPY");
        b.meta().migrationPhase("vm-1", "ABORTED"); // concurrent with a's
        a.sendTo(b);
        b.sendTo(a);
        assertArrayEquals(a.store().canonicalSnapshot(), b.store().canonicalSnapshot());
        ClusterMetadata.Vm vm = a.meta().vm("vm-1").orElseThrow();
        assertEquals(Optional.of("us-east"), vm.site());
        assertEquals(Optional.of("node-9"), vm.node());
        assertEquals(Optional.of("v7"), vm.baseline());
        assertEquals(2, vm.phases().size());
        assertTrue(vm.phases().containsAll(List.of("PRECOPY", "ABORTED")));
        assertEquals(Optional.of("HEALTHY"), b.meta().nodeStatus("node-1"));
        assertEquals(2, a.meta().total("vms"));
        assertEquals(List.of("vm-1"), b.meta().vmsOn("node-9"));
        a.meta().migrationPhase("vm-1", "DONE"); // supersedes both
        a.sendTo(b);
        assertEquals(List.of("DONE"), b.meta().vm("vm-1").orElseThrow().phases());
        b.meta().forgetVm("vm-1");
        b.sendTo(a);
        assertTrue(a.meta().vm("vm-1").isEmpty());
    }
}
