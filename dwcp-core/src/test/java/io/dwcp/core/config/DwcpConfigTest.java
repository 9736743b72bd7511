package io.dwcp.core.config;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("CORE-1")
class DwcpConfigTest {

    private static DwcpException invalid(DwcpConfig.Builder b) {
        DwcpException e = assertThrows(DwcpException.class, b::build);
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        return e;
    }

    @Test
    void defaultsAreValidAndEveryDefaultPassesItsOwnRule() {
        DwcpConfig c = DwcpConfig.defaults();
        for (ConfigKey<?> k : ConfigSchema.keys()) {
            for (Tier t : Tier.values()) {
                assertNull(checkDefault(k, t), k.name() + " default on " + t);
            }
            assertEquals("default", c.source(k));
        }
    }

    private static <T> String checkDefault(ConfigKey<T> k, Tier t) {
        return k.check(k.defaultValue(t));
    }

    @Test
    void everyDefaultRoundTripsThroughItsTextForm() {
        for (ConfigKey<?> k : ConfigSchema.keys()) {
            assertRoundTrip(k);
        }
    }

    private static <T> void assertRoundTrip(ConfigKey<T> k) {
        T v = k.defaultValue(Tier.WAN);
        assertEquals(v, k.type().parse(k.type().format(v)), k.name());
    }

    @Test
    void tierDefaultsFollowTheSpecTable() {
        DwcpConfig c = DwcpConfig.defaults();
        assertEquals(2, c.get(TransportKeys.INITIAL_STREAMS, Tier.LOCAL));
        assertEquals(4, c.get(TransportKeys.INITIAL_STREAMS, Tier.REGIONAL));
        assertEquals(8, c.get(TransportKeys.INITIAL_STREAMS, Tier.WAN));
        assertEquals(64, c.get(TransportKeys.MAX_STREAMS, Tier.WAN));
        assertEquals(DataSize.ofKibibytes(512), c.get(TransportKeys.CHUNK_SIZE, Tier.LOCAL));
        assertEquals(DataSize.ofKibibytes(256), c.get(TransportKeys.CHUNK_SIZE, Tier.WAN));
        assertEquals("zstd:9", c.get(CompressionKeys.LEVEL_WAN));
        assertTrue(TransportKeys.MAX_STREAMS.tierDependent());
        assertFalse(TransportKeys.MIN_STREAMS.tierDependent());
        // auto tier reads WAN defaults; a pin changes that
        assertEquals(8, c.get(TransportKeys.INITIAL_STREAMS));
        assertEquals(2, DwcpConfig.builder().tier(Tier.LOCAL).build().get(TransportKeys.INITIAL_STREAMS));
    }

    @Test
    void explicitValueWinsOverTierDefaultOnEveryTier() {
        DwcpConfig c = DwcpConfig.builder().set(TransportKeys.MAX_STREAMS, 128).build();
        for (Tier t : Tier.values()) {
            assertEquals(128, c.get(TransportKeys.MAX_STREAMS, t));
        }
        assertEquals("builder", c.source(TransportKeys.MAX_STREAMS));
    }

    /** One out-of-range or malformed value per rule of the schema: each must be refused with key, value and range. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
            "dwcp.node-id | has space | 1–64 chars",
            "dwcp.tier.pin | global | auto, local, regional or wan",
            "dwcp.compression.splice | yes | auto, on or off",
            "dwcp.compression.staging-dir | relative/dir | tmpdir, or an absolute directory path",
            "dwcp.tier.local-max-rtt | 0ms | 1ms–100ms",
            "dwcp.tier.regional-max-rtt | 2s | 1ms–1s",
            "dwcp.cpu.max-threads | 0 | 1–1024",
            "dwcp.migration.downtime-budget | 5ms | 10ms–60s",
            "dwcp.migration.max-rounds | 1001 | 1–1000",
            "dwcp.migration.receive-buffer | 512KiB | 1MiB–16GiB",
            "dwcp.migration.receive-buffer-per-peer | 17GiB | 1MiB–16GiB",
            "dwcp.recovery.max-attempts | 11 | 0–10",
            "dwcp.recovery.initial-backoff | 50ms | 100ms–1m",
            "dwcp.shutdown.timeout | 11m | 1s–10m",
            "dwcp.transport.min-streams | 0 | 1–256",
            "dwcp.transport.initial-streams | 257 | 1–256",
            "dwcp.transport.max-streams | 300 | 1–256",
            "dwcp.transport.adjust-interval | 100ms | 500ms–5m",
            "dwcp.transport.min-gain | 1.5 | 0–1",
            "dwcp.transport.chunk-size | 3KiB | 16KiB–4MiB, a multiple of 4KiB",
            "dwcp.transport.chunk-size | 18KiB | a multiple of 4KiB",
            "dwcp.transport.min-chunk | 8KiB | 16KiB–4MiB",
            "dwcp.transport.max-chunk | 8MiB | 16KiB–4MiB",
            "dwcp.transport.send-window | 512KiB | auto or 1MiB–4GiB",
            "dwcp.transport.reorder-buffer | 512KiB | 1MiB–16GiB",
            "dwcp.transport.socket-buffer | 1GiB | auto or 64KiB–256MiB",
            "dwcp.transport.connect-timeout | 10m | 1s–5m",
            "dwcp.transport.io-timeout | 2h | 1s–1h",
            "dwcp.transport.close-timeout | 11m | 0s–10m",
            "dwcp.transport.heartbeat-interval | 10ms | 100ms–1m",
            "dwcp.transport.stall-timeout | 20m | 1s–10m",
            "dwcp.transport.reconnect.initial-backoff | 1ms | 10ms–10s",
            "dwcp.transport.reconnect.max-backoff | 10m | 100ms–5m",
            "dwcp.transport.reconnect.max-attempts | 101 | 0–100",
            "dwcp.transport.session-timeout | 2h | 1s–1h",
            "dwcp.transport.max-sessions | 5000 | 1–4096",
            "dwcp.transport.max-sessions-per-peer | 0 | 1–4096",
            "dwcp.transport.max-transfers-per-peer | 4097 | 1–4096",
            "dwcp.transport.max-transfers | 0 | 1–4096",
            "dwcp.transport.max-pending-connections | 65537 | 1–65536",
            "dwcp.transport.max-pending-connections-per-peer | 0 | 1–65536",
            "dwcp.transport.idle-timeout | 500ms | 1s–7d",
            "dwcp.transport.transfer-idle-timeout | 25h | 1s–24h",
            "dwcp.transport.max-buffered | 512KiB | auto or 1MiB–1TiB",
            "dwcp.transport.max-buffered-per-peer | 2TiB | auto or 1MiB–1TiB",
            "dwcp.transport.max-frame-payload | 1KiB | 16KiB–64MiB",
            "dwcp.compression.batch-size | 32KiB | 64KiB–4MiB",
            "dwcp.compression.level.local | zstd:20 | none, zstd:-7 … zstd:19",
            "dwcp.compression.level.regional | zstd:-8 | none, zstd:-7 … zstd:19",
            "dwcp.compression.level.wan | gzip | none, zstd:-7 … zstd:19",
            "dwcp.compression.refresh-interval | 25h | 1s–24h",
            "dwcp.compression.max-delta-chain | 0 | 1–1000",
            "dwcp.compression.max-age | 8d | 1s–7d",
            "dwcp.compression.prune-interval | 2h | 1s–1h",
            "dwcp.compression.keyframe-ratio | 0.05 | 0.1–1",
            "dwcp.compression.baseline.max-memory | 1MiB | 16MiB–1TiB",
            "dwcp.compression.index.max-memory | 512KiB | 1MiB–16GiB",
            "dwcp.compression.adaptive.min-ratio | 0.9 | 1–10",
            "dwcp.compression.adaptive.reprobe-interval | 2h | 1s–1h",
            "dwcp.compression.adjust-interval | 0s | 1s–1h",
            "dwcp.compression.max-decoded-frame | 32KiB | 64KiB–1GiB",
            "dwcp.prediction.horizon | 2h | 5s–1h",
            "dwcp.prediction.short-horizon | 500ms | 1s–1h",
            "dwcp.prediction.update-interval | 2h | 1s–1h",
            "dwcp.prediction.sample-interval | 10ms | 100ms–1m",
            "dwcp.prediction.history-window | 25h | 5s–24h",
            "dwcp.prediction.predictor | lstm | auto, last, ewma",
            "dwcp.prediction.ewma.alpha-long | 0 | 0.001–1",
            "dwcp.prediction.ewma.alpha-short | 1.5 | 0.001–1",
            "dwcp.prediction.min-samples | 0 | 1–100000",
            "dwcp.prediction.min-matched | 0 | 1–100000",
            "dwcp.prediction.tolerance | 0 | 0.01–1",
            "dwcp.prediction.min-confidence | 1.1 | 0–1",
            "dwcp.prediction.quantiles | 0.5 0.9 | 0 < low < 0.5 < high < 1",
            "dwcp.consensus.peers | n1@127.0.0.1:9001,n1@127.0.0.1:9002 | none, or a comma-separated list of id@host:port with distinct ids",
            "dwcp.consensus.group | local group | 1–64 chars [A-Za-z0-9._-]",
            "dwcp.consensus.listen | 127.0.0.1 | peers, or host:port",
            "dwcp.consensus.election.min | 5ms | 10ms–1m",
            "dwcp.consensus.election.max | 11m | 20ms–10m",
            "dwcp.consensus.proposal-timeout | 50ms | 100ms–10m",
            "dwcp.consensus.read | eventually | log, read-index or lease",
            "dwcp.consensus.max-command | 512B | 1KiB–64MiB",
            "dwcp.consensus.snapshot.entries | 10 | 100–1000000000",
            "dwcp.consensus.dedup.window | 0 | 1–65536",
            "dwcp.consensus.dedup.max-clients | 0 | 1–1000000",
            "dwcp.consensus.election.rtt-multiple | 2 | 3–50",
            "dwcp.consensus.evaluate-interval | 500ms | 1s–1h",
            "dwcp.consensus.locality-threshold | 1.5 | 0–1",
            "dwcp.consensus.switch.min-interval | 25h | 0s–24h",
            "dwcp.consensus.switch.stable-evaluations | 0 | 1–100",
            "dwcp.consensus.switch.benefit-margin | 1 | above 1, at most 100",
            "dwcp.consensus.switch.drain-timeout | 500ms | 1s–10m",
            "dwcp.consensus.low-latency | 11s | 0ms–10s",
            "dwcp.consensus.max-regions-single-group | 0 | 1–100",
            "dwcp.sync.gossip.fanout | 17 | 1–16",
            "dwcp.sync.gossip.max-hops | 0 | 1–64",
            "dwcp.sync.gossip.interval | 50ms | 100ms–1m",
            "dwcp.sync.gossip.seen-ttl | 2d | 1s–1d",
            "dwcp.sync.anti-entropy.interval | 500ms | 1s–1h",
            "dwcp.sync.full-reconciliation.interval | 2d | 1s–1d",
            "dwcp.sync.max-staleness | 2h | 100ms–1h",
            "dwcp.sync.max-clock-skew | 0s | 1ms–1h",
            "dwcp.sync.causal-buffer.max-entries | 0 | 1–10000000",
            "dwcp.sync.max-message | 1KiB | 4KiB–256MiB",
            "dwcp.sync.request-timeout | 10m | 100ms–5m",
            "dwcp.sync.push-mode | states | delta, entry-state or full-state",
            "dwcp.sync.gc-interval | 500ms | 1s–1d",
            "dwcp.sync.replica-retirement | 31d | 1m–30d",
            "dwcp.partition.strategy | random | hierarchical, graph-cut or greedy",
            "dwcp.partition.max-imbalance | 1.5 | 0–1",
            "dwcp.partition.rebalance-threshold | -0.1 | 0–1",
            "dwcp.partition.planning-horizon | 30s | 1m–7d",
            "dwcp.partition.move-cost-factor | -1 | ≥ 0",
            "dwcp.partition.max-moves | 0 | 1–10000",
            "dwcp.partition.refinement-passes | 101 | 1–100",
    })
    void outOfRangeValueIsRefusedWithKeyValueSourceAndRange(String key, String value, String range) {
        DwcpException e = invalid(DwcpConfig.builder().set(key, value));
        String m = e.getMessage();
        assertTrue(m.contains(key + " = "), m);
        assertTrue(m.contains("(from builder)"), m);
        assertTrue(m.contains(range), m);
    }

    @Test
    void everyKeyWithARuleIsCoveredByTheRangeTest() throws NoSuchMethodException {
        CsvSource csv = getClass().getDeclaredMethod("outOfRangeValueIsRefusedWithKeyValueSourceAndRange",
                String.class, String.class, String.class).getAnnotation(CsvSource.class);
        Set<String> covered = new HashSet<>();
        for (String row : csv.value()) {
            covered.add(row.split("\\|")[0].trim());
        }
        for (ConfigKey<?> k : ConfigSchema.keys()) {
            boolean hasRule = !k.allowed().startsWith("any ");
            boolean alwaysValid = k.allowed().equals("none or a rate > 0");
            if (hasRule && !alwaysValid) {
                assertTrue(covered.contains(k.name()), "no out-of-range case for " + k.name());
            }
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "dwcp.transport.chunk-size | 262144 | has no unit",
            "dwcp.transport.connect-timeout | 30 | has no unit",
            "dwcp.transport.rate-cap | 400 | is not a rate",
            "dwcp.transport.rate-cap | 400Mbps | is not a rate",
            "dwcp.transport.max-streams | many | is not a integer",
            "dwcp.transport.tls.enabled | yes | is not a boolean",
            "dwcp.transport.chunk-size | 256XB | unknown size unit",
    })
    void malformedValuesAreRefused(String key, String value, String why) {
        String m = invalid(DwcpConfig.builder().set(key, value)).getMessage();
        assertTrue(m.contains(key + " = " + value), m);
        assertTrue(m.contains(why), m);
    }

    @Test
    void allViolationsAreReportedTogether() {
        String m = invalid(DwcpConfig.builder()
                .set("dwcp.transport.max-streams", "0")
                .set("dwcp.shutdown.timeout", "0s")
                .set("dwcp.transport.chunck-size", "256KiB")).getMessage();
        assertTrue(m.startsWith("INVALID_CONFIG: 3 configuration problems"), m);
        assertTrue(m.contains("dwcp.transport.max-streams"), m);
        assertTrue(m.contains("dwcp.shutdown.timeout"), m);
    }

    /** Keys that nothing read were removed; a configuration that still sets one is refused, not silently ignored. */
    @ParameterizedTest
    @CsvSource({"dwcp.region, eu-1", "dwcp.tier.hysteresis, 0.1", "dwcp.tier.min-dwell, 30s", "dwcp.metrics.interval, 5s",
            "dwcp.health.interval, 10s", "dwcp.compression.page-size, 4KiB", "dwcp.compression.level.wan, lz4"})
    void removedKeysAndWordsAreRefused(String key, String value) {
        String m = invalid(DwcpConfig.builder().set(key, value)).getMessage();
        assertTrue(m.contains(key), m);
    }

    @Test
    void unknownKeyGetsANearestKeyHint() {
        String m = invalid(DwcpConfig.builder().set("dwcp.transport.chunck-size", "256KiB")).getMessage();
        assertTrue(m.contains("dwcp.transport.chunck-size (from builder) is not a configuration key: did you mean dwcp.transport.chunk-size?"), m);
    }

    @Test
    void crossKeyRulesAreCheckedOnEveryTier() {
        // 40 initial streams exceed the LOCAL (16) and REGIONAL (32) maxima, not WAN's 64.
        String m = invalid(DwcpConfig.builder().set(TransportKeys.INITIAL_STREAMS, 40)).getMessage();
        assertTrue(m.contains("on the local tier"), m);
        assertTrue(m.contains("on the regional tier"), m);
        assertFalse(m.contains("on the wan tier"), m);
        assertTrue(m.contains("raise max-streams"), m);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "dwcp.transport.min-chunk=1MiB;dwcp.transport.chunk-size=256KiB | min-chunk (1MiB) ≤ chunk-size",
            "dwcp.transport.max-chunk=4MiB;dwcp.transport.max-frame-payload=1MiB | max-frame-payload (1MiB) must be ≥ max-chunk (4MiB)",
            "dwcp.transport.reconnect.initial-backoff=10s;dwcp.transport.reconnect.max-backoff=1s | initial-backoff (10s) must be ≤",
            "dwcp.tier.local-max-rtt=60ms | regional-max-rtt (50ms) must be > tier.local-max-rtt (60ms)",
            "dwcp.compression.max-age=1m | max-age (1m) must be ≥ refresh-interval (5m)",
            "dwcp.compression.max-decoded-frame=512KiB | max-decoded-frame (512KiB) must be ≥ batch-size (1MiB)",
    })
    void crossKeyViolations(String settings, String expected) {
        DwcpConfig.Builder b = DwcpConfig.builder();
        for (String s : settings.split(";")) {
            String[] kv = s.split("=");
            b.set(kv[0], kv[1]);
        }
        String m = invalid(b).getMessage();
        assertTrue(m.contains(expected), m);
    }

    @Test
    void optionalValuesUseTheirWord() {
        DwcpConfig c = DwcpConfig.builder().set("dwcp.transport.rate-cap", "400Mbit/s").set("dwcp.transport.send-window", "auto").build();
        assertEquals(Optional.of(DataRate.ofMegabitsPerSecond(400)), c.get(TransportKeys.RATE_CAP));
        assertEquals(Optional.empty(), c.get(TransportKeys.SEND_WINDOW));
        assertEquals(Optional.empty(), DwcpConfig.defaults().get(TransportKeys.GLOBAL_RATE_CAP));
    }

    @Test
    void precedenceIsFileThenSystemOrEnvironmentThenBuilder(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("dwcp.properties");
        Files.writeString(file, "dwcp.transport.max-streams=20\ndwcp.transport.min-streams=2\ndwcp.transport.initial-streams=3\n");
        DwcpConfig c = DwcpConfig.builder()
                .set(TransportKeys.MIN_STREAMS, 1)                       // builder beats everything
                .environment(Map.of("DWCP_TRANSPORT_MAX_STREAMS", "24", "PATH", "/bin"))
                .file(file)                                              // added last, still lowest
                .build();
        assertEquals(24, c.get(TransportKeys.MAX_STREAMS));
        assertEquals("environment DWCP_TRANSPORT_MAX_STREAMS", c.source(TransportKeys.MAX_STREAMS));
        assertEquals(1, c.get(TransportKeys.MIN_STREAMS));
        assertEquals("builder", c.source(TransportKeys.MIN_STREAMS));
        assertEquals(3, c.get(TransportKeys.INITIAL_STREAMS));
        assertEquals(file.toString(), c.source(TransportKeys.INITIAL_STREAMS));
    }

    @Test
    void unknownEnvironmentVariableIsAnError() {
        String m = invalid(DwcpConfig.builder().environment(Map.of("DWCP_TRANSPORT_MAX_STREAM", "8"))).getMessage();
        assertTrue(m.contains("DWCP_TRANSPORT_MAX_STREAM names no configuration key"), m);
    }

    @Test
    void systemPropertiesAreRead() {
        System.setProperty("dwcp.migration.max-rounds", "7");
        try {
            DwcpConfig c = DwcpConfig.builder().systemProperties().build();
            assertEquals(7, c.get(CoreKeys.MIGRATION_MAX_ROUNDS));
            assertEquals("system property dwcp.migration.max-rounds", c.source(CoreKeys.MIGRATION_MAX_ROUNDS));
        } finally {
            System.clearProperty("dwcp.migration.max-rounds");
        }
    }

    @Test
    void yamlFileWithNestedMaps(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("dwcp.yaml");
        Files.writeString(file, String.join("\n",
                "# node settings",
                "dwcp:",
                "  node-id: \"edge-1\"   # quoted",
                "  transport:",
                "    chunk-size: 1MiB",
                "    reconnect:",
                "      max-attempts: 5",
                "  compression:",
                "    level:",
                "      wan: zstd:6",
                ""));
        DwcpConfig c = DwcpConfig.builder().file(file).build();
        assertEquals(Optional.of("edge-1"), c.get(CoreKeys.NODE_ID));
        assertEquals(DataSize.ofMebibytes(1), c.get(TransportKeys.CHUNK_SIZE));
        assertEquals(5, c.get(TransportKeys.RECONNECT_MAX_ATTEMPTS));
        assertEquals("zstd:6", c.get(CompressionKeys.LEVEL_WAN));
    }

    @Test
    void yamlFeaturesOutsideTheSubsetAreReported(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yml");
        Files.writeString(file, "dwcp:\n  transport:\n    - max-streams: 3\n");
        String m = invalid(DwcpConfig.builder().file(file)).getMessage();
        assertTrue(m.contains("bad.yml line 3"), m);
    }

    @Test
    void fileSettingsNameTheirFileAsSource(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("prod.properties");
        Files.writeString(file, "dwcp.transport.chunk-size=3KiB\n");
        String m = invalid(DwcpConfig.builder().file(file)).getMessage();
        assertTrue(m.contains("dwcp.transport.chunk-size = 3KiB (from " + file + "): expected 16KiB–4MiB, a multiple of 4KiB"), m);
    }

    @Test
    void malformedUnicodeEscapeInPropertiesIsInvalidConfig(@TempDir Path dir) throws IOException {
        // Found by ConfigFuzzTest: Properties.load threw IllegalArgumentException out of build's contract.
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "dwcp.tier.pin=w\\u00zz\n");
        String m = invalid(DwcpConfig.builder().file(file)).getMessage();
        assertTrue(m.contains("bad.properties: Malformed \\uxxxx encoding"), m);
    }

    @Test
    void unreadableFileIsInvalidConfig(@TempDir Path dir) {
        DwcpException e = assertThrows(DwcpException.class, () -> DwcpConfig.builder().file(dir.resolve("missing.properties")));
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
    }

    @Test
    void propertiesIgnoreNonDwcpEntries() {
        Properties p = new Properties();
        p.setProperty("java.home", "/x");
        p.setProperty("dwcp.shutdown.timeout", "10s");
        assertEquals(Duration.ofSeconds(10), DwcpConfig.builder().properties(p, "app.properties").build().get(CoreKeys.SHUTDOWN_TIMEOUT));
    }

    @Test
    void dumpListsEveryKeyWithSourceAndRedactsSecrets() {
        DwcpConfig c = DwcpConfig.builder().set("dwcp.transport.tls.private-key", "/etc/dwcp/key.pem").build();
        String dump = c.dump();
        assertEquals(ConfigSchema.keys().size(), dump.split("\n").length);
        assertTrue(dump.contains("dwcp.transport.tls.private-key = <redacted> (builder)"), dump);
        assertFalse(dump.contains("key.pem"), dump);
        assertFalse(c.toString().contains("key.pem"));
        assertTrue(dump.contains("dwcp.transport.max-streams = 16 / 32 / 64 (local / regional / wan) (default)"), dump);
    }

    @Test
    void toBuilderMakesVariants() {
        DwcpConfig base = DwcpConfig.builder().set(TransportKeys.MAX_STREAMS, 100).build();
        DwcpConfig variant = base.toBuilder().set(TransportKeys.MIN_STREAMS, 2).build();
        assertEquals(100, variant.get(TransportKeys.MAX_STREAMS));
        assertEquals(2, variant.get(TransportKeys.MIN_STREAMS));
        assertEquals(1, base.get(TransportKeys.MIN_STREAMS));
    }

    @Test
    void typedSetRejectsWrongJavaType() {
        @SuppressWarnings({"unchecked", "rawtypes"})
        ConfigKey<Object> raw = (ConfigKey) TransportKeys.MAX_STREAMS;
        assertThrows(IllegalArgumentException.class, () -> DwcpConfig.builder().set(raw, "8"));
    }

    @Test
    void referenceIsGeneratedFromTheSchema() {
        String md = ConfigSchema.markdownReference();
        for (ConfigKey<?> k : ConfigSchema.keys()) {
            assertTrue(md.contains("`" + k.name() + "`"), k.name());
        }
    }
}
