package io.dwcp.core.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.testing.FuzzSeeds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes configuration parsing from the text a user writes: a YAML or properties file read by
 * {@link DwcpConfig.Builder#file}, or {@code DWCP_*} environment variables. Only {@code INVALID_CONFIG} may come out;
 * a configuration that builds can be written back as text (each value in its documented format) and read again to
 * the same values. Regression mode replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 *
 * <p>Input layout: byte 0 = source (0 YAML file, 1 properties file, 2 environment as {@code NAME=value} lines), then
 * the text in UTF-8.
 */
class ConfigFuzzTest {
    private static Path dir;

    private static synchronized Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("dwcp-config-fuzz");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    @AfterAll
    static synchronized void cleanUp() throws IOException {
        if (dir != null) {
            for (String f : new String[] {"fuzz.yaml", "fuzz.properties"}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.delete(dir);
            dir = null;
        }
    }

    @FuzzTest(maxDuration = "10m")
    void text(byte[] input) throws IOException {
        if (input.length == 0) {
            return;
        }
        int source = (input[0] & 0xFF) % 3;
        byte[] text = Arrays.copyOfRange(input, 1, input.length);
        DwcpConfig.Builder b = DwcpConfig.builder();
        DwcpConfig config;
        try {
            if (source == 2) {
                b.environment(environment(new String(text, StandardCharsets.UTF_8)));
            } else {
                Path file = dir().resolve(source == 0 ? "fuzz.yaml" : "fuzz.properties");
                Files.write(file, text);
                b.file(file);
            }
            config = b.build();
        } catch (DwcpException e) {
            assertEquals(ErrorCode.INVALID_CONFIG, e.code(), e.getMessage());
            assertNotNull(e.getMessage());
            return;
        } catch (RuntimeException e) {
            fail("configuration parsing threw " + e, e);
            return;
        }
        assertNotNull(config.dump());
        // Written back as text and read again: the same values.
        DwcpConfig.Builder again = DwcpConfig.builder();
        for (ConfigKey<?> key : ConfigSchema.keys()) {
            if (!config.source(key).equals("default")) {
                again.set(key.name(), text(key, config));
            }
        }
        DwcpConfig reread = again.build();
        for (ConfigKey<?> key : ConfigSchema.keys()) {
            assertEquals(config.get(key, Tier.WAN), reread.get(key, Tier.WAN), key.name() + " changed when written back");
        }
    }

    private static <T> String text(ConfigKey<T> key, DwcpConfig config) {
        return key.type().format(config.get(key, Tier.WAN));
    }

    static Map<String, String> environment(String text) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    static byte[] input(int source, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        out[0] = (byte) source;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    /** Valid files and variables with values of every type (sizes, rates, durations, ratios, words, booleans). */
    static Map<String, String> seedTexts() {
        Map<String, String> seeds = new LinkedHashMap<>();
        seeds.put("yaml", "# node settings\n---\ndwcp:\n  tier:\n    pin: wan\n  transport:\n    max-streams: 32\n"
                + "    chunk-size: 256KiB   # a multiple of 4KiB\n    min-gain: 0.1\n  compression:\n"
                + "    level:\n      wan: 'zstd:3'\n    splice: \"on\"\n  migration:\n    receive-buffer: 64MiB\n"
                + "    downtime-budget: 300ms\n");
        seeds.put("properties", "# node settings\ndwcp.tier.pin=regional\ndwcp.transport.adjust-interval = 2s\n"
                + "dwcp.compression.batch-size: 1MiB\ndwcp.recovery.max-attempts=5\ndwcp.shutdown.timeout=30s\n");
        seeds.put("environment", "DWCP_TRANSPORT_MAX_STREAMS=16\nDWCP_COMPRESSION_SPLICE=off\nDWCP_SHUTDOWN_TIMEOUT=30s\n"
                + "HOME=/root\n");
        return seeds;
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int source = 0;
        for (Map.Entry<String, String> s : seedTexts().entrySet()) {
            seeds.put(s.getKey(), input(source++, s.getValue()));
        }
        return seeds;
    }

    @Test
    void seedsAreValidConfigurations() throws IOException {
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            text(s.getValue());
            Path file = dir().resolve(s.getKey().equals("yaml") ? "fuzz.yaml" : "fuzz.properties");
            DwcpConfig.Builder b = DwcpConfig.builder();
            if (s.getKey().equals("environment")) {
                b.environment(environment(new String(s.getValue(), 1, s.getValue().length - 1, StandardCharsets.UTF_8)));
            } else {
                Files.write(file, Arrays.copyOfRange(s.getValue(), 1, s.getValue().length));
                b.file(file);
            }
            assertNotNull(b.build(), s.getKey());
        }
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        FuzzSeeds.write(ConfigFuzzTest.class, "text", seeds());
    }
}
