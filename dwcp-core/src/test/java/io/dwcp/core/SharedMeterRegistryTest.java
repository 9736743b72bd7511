package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.testing.ManualScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two managers on one user registry: each has its own meters, tagged with its node id, and removes only those. */
class SharedMeterRegistryTest {
    private final SimpleMeterRegistry shared = new SimpleMeterRegistry();
    private final Log log = new Log();
    private final RecordingTransport transportA = new RecordingTransport(log);
    private final RecordingTransport transportB = new RecordingTransport(log);
    private final DwcpManager a = manager("node-a", transportA);
    private final DwcpManager b = manager("node-b", transportB);

    private DwcpManager manager(String id, RecordingTransport transport) {
        return DwcpManager.builder()
                .config(DwcpConfig.builder().set("dwcp.node-id", id).build())
                .transportProvider(RecordingComponents.provider(transport))
                .codecProvider(RecordingComponents.provider(new RecordingCodec(log)))
                .scheduler(new ManualScheduler())
                .meterRegistry(shared)
                .build();
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    private Set<String> nodesOf(String meter) {
        Set<String> nodes = new TreeSet<>();
        for (Meter m : shared.find(meter).meters()) {
            nodes.add(m.getId().getTag("node"));
        }
        return nodes;
    }

    @Test
    void everyMeterOfAManagerCarriesItsNodeTag() {
        a.start();
        b.start();
        assertSame(shared, a.meterRegistry());
        assertEquals(Set.of("node-a", "node-b"), nodesOf("dwcp.build.info"));
        assertEquals(Set.of("node-a", "node-b"), nodesOf("dwcp.component.state"));
        for (Meter m : shared.getMeters()) {
            assertNotNull(m.getId().getTag("node"), m.getId().toString());
        }
    }

    @Test
    void gaugesOfTheSecondManagerAreNotDropped() {
        AtomicInteger sessionsA = new AtomicInteger(3);
        AtomicInteger sessionsB = new AtomicInteger(5);
        a.start();
        b.start();
        Gauge.builder("dwcp.test.sessions", sessionsA, AtomicInteger::get).register(transportA.context.meterRegistry());
        Gauge.builder("dwcp.test.sessions", sessionsB, AtomicInteger::get).register(transportB.context.meterRegistry());
        assertEquals(3.0, shared.get("dwcp.test.sessions").tag("node", "node-a").gauge().value());
        assertEquals(5.0, shared.get("dwcp.test.sessions").tag("node", "node-b").gauge().value());
    }

    @Test
    void stoppingOneManagerRemovesExactlyItsMeters() {
        a.start();
        b.start();
        Counter.builder("dwcp.migration.rounds").register(transportA.context.meterRegistry()).increment();
        Counter.builder("dwcp.migration.rounds").register(transportB.context.meterRegistry()).increment(2);
        int before = shared.getMeters().size();
        long ofB = shared.getMeters().stream().filter(m -> "node-b".equals(m.getId().getTag("node"))).count();

        b.stop();

        assertEquals(before - ofB, shared.getMeters().size());
        for (Meter m : shared.getMeters()) {
            assertEquals("node-a", m.getId().getTag("node"), m.getId().toString());
        }
        assertEquals(1.0, shared.get("dwcp.migration.rounds").counter().count());
        assertEquals(ComponentState.RUNNING.ordinal(),
                shared.get("dwcp.component.state").tag("component", "transport").gauge().value());
        a.close();
        assertTrue(shared.getMeters().isEmpty(), shared.getMeters().toString());
    }

    @Test
    void metersOfBuiltComponentsAreForwardedAndAStoppedManagerForwardsNothing() {
        Counter early = Counter.builder("dwcp.test.early").register(transportA.context.meterRegistry());
        early.increment();
        assertEquals(1.0, shared.get("dwcp.test.early").tag("node", "node-a").counter().count(), "a component built");
        a.start();
        a.stop();
        Counter.builder("dwcp.test.late").register(transportA.context.meterRegistry()).increment();
        assertNull(shared.find("dwcp.test.late").counter(), "a stopped manager forwards nothing");
        assertTrue(shared.getMeters().isEmpty(), shared.getMeters().toString());
        a.start();
        assertNull(shared.find("dwcp.test.late").counter(), "a meter of the stopped manager is dropped at restart");
        assertEquals(Set.of("node-a"), nodesOf("dwcp.build.info"));
    }

    @Test
    void aRestartedManagerRegistersItsMetersAgain() {
        a.start();
        a.stop();
        a.start();
        assertEquals(Set.of("node-a"), nodesOf("dwcp.component.state"));
        assertEquals(2, shared.find("dwcp.component.state").gauges().size());
    }
}
