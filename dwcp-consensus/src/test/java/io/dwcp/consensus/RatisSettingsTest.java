package io.dwcp.consensus;

import io.dwcp.core.config.DwcpConfig;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Ratis server properties a replica starts with: durability, elections and reads as the module documents them. */
class RatisSettingsTest {
    private static final Path STORAGE = Path.of("/var/lib/dwcp/raft");

    private static RaftProperties server(DwcpConfig config, Duration electionMin) {
        return RatisSettings.serverProperties(config, STORAGE, "10.0.0.1:9871", electionMin);
    }

    @Test
    void defaultsForceTheLogAndKeepRatisCommitMetadata() {
        RaftProperties p = server(DwcpConfig.builder().build(), Duration.ofMillis(300));
        assertFalse(RaftServerConfigKeys.Log.unsafeFlushEnabled(p), "fsync=true by default: every entry is forced");
        assertTrue(RaftServerConfigKeys.Log.logMetadataEnabled(p), "recovery after a leader kill needs them (see docs)");
        assertTrue(RaftServerConfigKeys.LeaderElection.preVote(p));
        assertEquals(RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
        assertFalse(RaftServerConfigKeys.Read.leaderLeaseEnabled(p), "read-index is the default read path");
        assertEquals(List.of(STORAGE.toFile()), RaftServerConfigKeys.storageDir(p));
    }

    @Test
    void electionWindowIsMinToTwiceMinCappedByMaxAndTheSleepDeviationSpansSeveralTimeouts() {
        RaftProperties p = server(DwcpConfig.builder().build(), Duration.ofMillis(300));
        assertEquals(300, RaftServerConfigKeys.Rpc.timeoutMin(p).toLong(TimeUnit.MILLISECONDS));
        assertEquals(600, RaftServerConfigKeys.Rpc.timeoutMax(p).toLong(TimeUnit.MILLISECONDS));
        assertEquals(RatisSettings.SLEEP_DEVIATION_TIMEOUTS * 600L,
                RaftServerConfigKeys.sleepDeviationThreshold(p).toLong(TimeUnit.MILLISECONDS));

        RaftProperties capped = server(DwcpConfig.builder().set("dwcp.consensus.election.min", "500ms")
                .set("dwcp.consensus.election.max", "1s").build(),
                Duration.ofMillis(800));
        assertEquals(800, RaftServerConfigKeys.Rpc.timeoutMin(capped).toLong(TimeUnit.MILLISECONDS));
        assertEquals(1000, RaftServerConfigKeys.Rpc.timeoutMax(capped).toLong(TimeUnit.MILLISECONDS));
    }

    @Test
    void fsyncOffAndLeaseReadsAreOnlyWhatTheConfigurationAsks() {
        RaftProperties p = server(DwcpConfig.builder().set("dwcp.consensus.fsync", "false")
                .set("dwcp.consensus.read", "lease").build(), Duration.ofMillis(300));
        assertTrue(RaftServerConfigKeys.Log.unsafeFlushEnabled(p));
        assertTrue(RaftServerConfigKeys.Read.leaderLeaseEnabled(p));
        assertEquals(RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
    }
}
