package io.dwcp.bench;

import io.dwcp.core.config.ConfigKey;
import io.dwcp.core.config.ConfigSchema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every documented configuration key has a reader: some main source of some module, other than the schema itself
 * (the {@code *Keys} classes and {@code ConfigSchema}, whose cross-key rules only validate), names the key's constant
 * ({@code TransportKeys.RATE_CAP}) or its name as a string literal. A key that nothing reads is a promise the SDK does
 * not keep: remove it (a configuration that sets it then fails as an unknown key) or give it a reader.
 */
class ConfigKeyReadersTest {
    private static final Path ROOT = Paths.get("..").toAbsolutePath().normalize();
    private static final String CONFIG_PACKAGE = "dwcp-core/src/main/java/io/dwcp/core/config/";

    /** The schema's keys by name, each with the {@code Class.FIELD} that declares it. */
    private static Map<String, String> declarations() throws IllegalAccessException {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> key : ConfigSchema.keys()) {
            out.put(key.name(), null);
        }
        for (String cls : List.of("CoreKeys", "TransportKeys", "CompressionKeys", "PredictionKeys", "PartitionKeys",
                "SyncKeys", "ConsensusKeys")) {
            Class<?> c;
            try {
                c = Class.forName("io.dwcp.core.config." + cls);
            } catch (ClassNotFoundException e) {
                throw new AssertionError("ConfigSchema's section " + cls + " is gone: update this test", e);
            }
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigKey.class.isAssignableFrom(f.getType())) {
                    out.put(((ConfigKey<?>) f.get(null)).name(), cls + "." + f.getName());
                }
            }
        }
        return out;
    }

    private static Map<Path, String> mainSources() throws IOException {
        Map<Path, String> out = new LinkedHashMap<>();
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path module : (Iterable<Path>) modules.filter(p -> p.getFileName().toString().startsWith("dwcp-"))::iterator) {
                Path main = module.resolve("src/main/java");
                if (!Files.isDirectory(main)) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(main)) {
                    for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                        String rel = ROOT.relativize(f).toString().replace('\\', '/');
                        if (rel.startsWith(CONFIG_PACKAGE) && (rel.endsWith("Keys.java") || rel.endsWith("ConfigSchema.java"))) {
                            continue;
                        }
                        out.put(f, Files.readString(f));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everyKeyOfTheSchemaIsReadOutsideTheSchema() throws Exception {
        Map<String, String> keys = declarations();
        Map<Path, String> sources = mainSources();
        assertTrue(sources.size() > 100, "found only " + sources.size() + " main sources under " + ROOT);
        List<String> unread = new ArrayList<>();
        for (Map.Entry<String, String> k : keys.entrySet()) {
            assertTrue(k.getValue() != null, k.getKey() + " is in the schema but declared by no public *Keys field");
            boolean read = isRead(k.getValue(), k.getKey(), sources.values());
            if (!read) {
                unread.add(k.getKey() + " (" + k.getValue() + ")");
            }
        }
        assertEquals(List.of(), unread, "documented keys that no main source reads: give each a reader or remove it");
    }

    private static boolean isRead(String constant, String name, Iterable<String> sources) {
        Pattern field = Pattern.compile("\\b" + Pattern.quote(constant) + "\\b");
        String literal = "\"" + name + "\"";
        for (String s : sources) {
            if (field.matcher(s).find() || s.contains(literal)) {
                return true;
            }
        }
        return false;
    }

    /** The check itself can fail: a key removed for having no reader is not found, a key with one is. */
    @Test
    void theScanTellsReadFromUnread() throws Exception {
        Map<Path, String> sources = mainSources();
        assertTrue(!isRead("CoreKeys.TIER_HYSTERESIS", "dwcp.tier.hysteresis", sources.values()));
        assertTrue(isRead("TransportKeys.RATE_CAP", "dwcp.transport.rate-cap", sources.values()));
    }
}
