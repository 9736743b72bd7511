package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.testing.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("CORE-3")
@Tag("CORE-4")
class DwcpManagerTest {
    private final Log log = new Log();
    private final RecordingTransport transport = new RecordingTransport(log);
    private final RecordingCodec codec = new RecordingCodec(log);
    private final ManualScheduler scheduler = new ManualScheduler();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private DwcpManager manager;

    @BeforeEach
    void build() {
        manager = DwcpManager.builder()
                .transportProvider(RecordingComponents.provider(transport))
                .codecProvider(RecordingComponents.provider(codec))
                .scheduler(scheduler)
                .meterRegistry(registry)
                .build();
    }

    @Test
    void startsInDependencyOrderAndStopsInReverse() {
        manager.start();
        manager.stop();
        assertEquals(List.of("start:transport", "start:compression", "stop:compression", "stop:transport"), log.events);
        assertEquals(ComponentState.STOPPED, manager.state());
    }

    @Test
    void buildingCreatesComponentsButStartsNothing() {
        assertEquals(List.of(), log.events);
        assertEquals(ComponentState.NEW, manager.state());
        assertSame(transport, manager.transport());
        assertSame(codec, manager.codec());
    }

    @Test
    void startStopAndCloseAreIdempotent() {
        manager.start();
        manager.start();
        manager.stop();
        manager.stop();
        manager.close();
        manager.close();
        assertEquals(List.of("start:transport", "start:compression", "stop:compression", "stop:transport"), log.events);
    }

    @Test
    void stoppedManagerStartsAgain() {
        manager.start();
        manager.stop();
        manager.start();
        assertEquals(ComponentState.RUNNING, manager.state());
        assertEquals(2, transport.starts);
    }

    @Test
    void closedManagerRefusesToStart() {
        manager.close();
        DwcpException e = assertThrows(DwcpException.class, manager::start);
        assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
    }

    @Test
    void failedStartStopsWhatStartedAndNamesTheComponent() {
        codec.failStarts = 1;
        DwcpException e = assertThrows(DwcpException.class, manager::start);
        assertTrue(e.getMessage().contains("component 'compression' failed to start"), e.getMessage());
        assertTrue(e.getMessage().contains("cannot bind"), e.getMessage());
        assertEquals(List.of("start:transport", "start:compression", "stop:compression", "stop:transport"), log.events);
        assertEquals(ComponentState.FAILED, manager.state());
        assertEquals(ComponentState.STOPPED, manager.componentState("transport"));
        // FAILED may start again.
        manager.start();
        assertEquals(ComponentState.RUNNING, manager.state());
    }

    @Test
    void runtimeFailureRestartsWithDoublingBackoff() {
        manager.start();
        codec.failStarts = 2;
        codec.context.reportFailure(new RuntimeException("zstd context lost"));

        assertEquals(ComponentState.FAILED, manager.componentState("compression"));
        assertEquals(ComponentState.RUNNING, manager.componentState("transport"));
        assertEquals(Health.Status.UNHEALTHY, manager.health().status());

        scheduler.advance(Duration.ofMillis(999));
        assertEquals(1, codec.starts, "no restart before 1 s");
        scheduler.advance(Duration.ofMillis(1));
        assertEquals(2, codec.starts, "first restart at 1 s (fails)");
        scheduler.advance(Duration.ofSeconds(2));
        assertEquals(3, codec.starts, "second restart 2 s later (fails)");
        scheduler.advance(Duration.ofSeconds(4));
        assertEquals(4, codec.starts, "third restart 4 s later (succeeds)");
        assertEquals(ComponentState.RUNNING, manager.componentState("compression"));
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4)), scheduler.scheduledDelays());
        assertEquals(3, manager.restarts("compression"));
        assertEquals(3.0, registry.get("dwcp.component.restarts").tag("component", "compression").counter().count());
        assertEquals(Health.Status.HEALTHY, manager.health().status());
    }

    @Test
    void componentStaysFailedAfterMaxAttempts() {
        manager.start();
        codec.failStarts = 100;
        codec.context.reportFailure(new RuntimeException("broken"));
        scheduler.advance(Duration.ofMinutes(10));
        assertEquals(4, codec.starts, "initial start + 3 restarts");
        assertEquals(ComponentState.FAILED, manager.componentState("compression"));
        assertEquals(0, scheduler.pending());
        assertEquals(ComponentState.RUNNING, manager.componentState("transport"), "independent components keep running");
    }

    @Test
    void stopCancelsPendingRecovery() {
        manager.start();
        codec.context.reportFailure(new RuntimeException("broken"));
        manager.stop();
        scheduler.advance(Duration.ofMinutes(1));
        assertEquals(1, codec.starts);
        assertEquals(0, scheduler.pending());
    }

    @Test
    void failureReportedWhileStoppedIsIgnored() {
        manager.start();
        manager.stop();
        codec.context.reportFailure(new RuntimeException("late"));
        assertEquals(0, scheduler.pending());
        assertEquals(ComponentState.STOPPED, manager.componentState("compression"));
    }

    @Test
    void recoveryAttemptsFollowConfig() {
        DwcpManager m = DwcpManager.builder()
                .config(DwcpConfig.builder().set(CoreKeys.RECOVERY_MAX_ATTEMPTS, 1)
                        .set(CoreKeys.RECOVERY_INITIAL_BACKOFF, Duration.ofMillis(250)).build())
                .transportProvider(RecordingComponents.provider(transport))
                .scheduler(scheduler)
                .build();
        m.start();
        transport.failStarts = 5;
        transport.context.reportFailure(new RuntimeException("x"));
        scheduler.advance(Duration.ofMinutes(1));
        assertEquals(List.of(Duration.ofMillis(250)), scheduler.scheduledDelays());
        assertEquals(ComponentState.FAILED, m.componentState("transport"));
    }

    @Test
    void aggregateHealthIsTheWorstAndReadLive() {
        manager.start();
        assertEquals(Health.Status.HEALTHY, manager.health().status());
        transport.health = Health.degraded("1 of 8 streams");
        Health h = manager.health();
        assertEquals(Health.Status.DEGRADED, h.status());
        assertTrue(h.detail().contains("transport: 1 of 8 streams"), h.detail());
        codec.health = Health.unhealthy("no baseline store");
        assertEquals(Health.Status.UNHEALTHY, manager.health().status());
        assertEquals(Health.Status.UNHEALTHY, manager.componentHealth().get("compression").status());
    }

    @Test
    void metersAreRegisteredWhileRunningAndRemovedOnStop() {
        manager.start();
        assertEquals(ComponentState.RUNNING.ordinal(),
                registry.get("dwcp.component.state").tag("component", "transport").gauge().value());
        assertNotNull(registry.find("dwcp.build.info").gauge());
        manager.stop();
        assertNull(registry.find("dwcp.component.state").gauge());
    }

    @Test
    void missingProviderGivesAClearError() {
        DwcpManager m = DwcpManager.builder().classLoader(new ClassLoader(null) { }).build();
        DwcpException e = assertThrows(DwcpException.class, m::transport);
        assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
        assertTrue(e.getMessage().contains("dwcp-transport"), e.getMessage());
        m.start();
        assertEquals(ComponentState.RUNNING, m.state());
        m.close();
    }

    @Test
    void nodeIdComesFromConfigOrIsRandom() {
        DwcpManager named = DwcpManager.builder().config(DwcpConfig.builder().set("dwcp.node-id", "host-7").build())
                .classLoader(new ClassLoader(null) { }).build();
        assertEquals("host-7", named.nodeId());
        assertTrue(manager.nodeId().startsWith("node-"));
    }
}
