package io.dwcp.core.config;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * The one immutable configuration of a DWCP node. Built from, in rising precedence: schema defaults (per
 * tier), a properties or YAML file, system properties or the environment, and builder calls. {@link Builder#build()}
 * validates every key of every section once and throws a single {@code INVALID_CONFIG} that lists every problem, each
 * naming the key, the value, its source and the allowed range.
 *
 * <p>Values whose default depends on the tier ({@link ConfigKey#tierDependent()}) are read with
 * {@link #get(ConfigKey, Tier)}; {@link #get(ConfigKey)} uses the pinned tier, or WAN (the conservative choice for a
 * path not yet measured) when the tier is {@code auto}.
 *
 * <p>Immutable and thread-safe. The one exception is the view a {@code DwcpManager} hands its components
 * ({@link ConfigUpdates#view()}): its {@linkplain ConfigKey#dynamic() dynamic} keys follow the changes made through
 * the manager while it runs.
 */
public final class DwcpConfig {
    private final Map<ConfigKey<?>, Setting> settings;
    /** Non-null for a live view: every read goes to {@code updates.current()}. */
    private final ConfigUpdates updates;

    private DwcpConfig(Map<ConfigKey<?>, Setting> settings) {
        this.settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        this.updates = null;
    }

    /** A live view of {@code updates}. */
    DwcpConfig(ConfigUpdates updates) {
        this.settings = Map.of();
        this.updates = updates;
    }

    /** {@return this configuration as it is now: itself, or for a live view the current snapshot} */
    DwcpConfig snapshot() {
        return updates == null ? this : updates.current();
    }

    /** {@return a new builder with nothing set} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the configuration made of schema defaults only} */
    public static DwcpConfig defaults() {
        return builder().build();
    }

    /** {@return a builder holding this configuration's explicit settings, for variants} */
    public Builder toBuilder() {
        if (updates != null) {
            return updates.current().toBuilder();
        }
        Builder b = new Builder();
        b.entries.putAll(settings);
        return b;
    }

    /**
     * The value for the pinned tier, or for WAN when the tier is {@code auto}.
     *
     * @param key the key
     * @param <T> the type of its value
     * @return the value
     */
    public <T> T get(ConfigKey<T> key) {
        return get(key, pinnedTier().orElse(Tier.WAN));
    }

    /**
     * The explicit value if one was set, else the schema default for {@code tier}.
     *
     * @param key the key
     * @param tier the tier
     * @param <T> the type of its value
     * @return the value
     */
    public <T> T get(ConfigKey<T> key, Tier tier) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(tier, "tier");
        if (updates != null) {
            return updates.current().get(key, tier);
        }
        Setting s = settings.get(key);
        return s == null ? key.defaultValue(tier) : key.cast(s.value);
    }

    /**
     * Where the value of {@code key} came from: {@code default}, {@code builder}, a file path, …
     *
     * @param key the key
     * @return the source
     */
    public String source(ConfigKey<?> key) {
        if (updates != null) {
            return updates.current().source(key);
        }
        Setting s = settings.get(key);
        return s == null ? "default" : s.source;
    }

    /** {@return the tier forced by {@code dwcp.tier.pin}, empty when {@code auto}} */
    public Optional<Tier> pinnedTier() {
        String pin = get(CoreKeys.TIER_PIN, Tier.WAN);
        return pin.equals("auto") ? Optional.empty() : Optional.of(Tier.parse(pin));
    }

    /**
     * The effective configuration, one line per key: {@code key = value (source)}; secrets are shown as
     * {@code <redacted>}.
     *
     * @return the dump, one key per line
     */
    public String dump() {
        if (updates != null) {
            return updates.current().dump();
        }
        StringBuilder sb = new StringBuilder();
        for (ConfigKey<?> key : ConfigSchema.keys()) {
            sb.append(key.name()).append(" = ").append(displayValue(key)).append(" (").append(source(key)).append(")\n");
        }
        return sb.toString();
    }

    private <T> String displayValue(ConfigKey<T> key) {
        Setting s = settings.get(key);
        if (s == null) {
            return key.defaultText();
        }
        return key.secret() ? "<redacted>" : key.type().format(key.cast(s.value));
    }

    @Override
    public String toString() {
        if (updates != null) {
            return updates.current().toString();
        }
        StringBuilder sb = new StringBuilder("DwcpConfig{");
        String sep = "";
        for (Map.Entry<ConfigKey<?>, Setting> e : settings.entrySet()) {
            sb.append(sep).append(e.getKey().name()).append('=').append(displayValue(e.getKey()));
            sep = ", ";
        }
        return sb.append('}').toString();
    }

    /** One explicit value and where it came from. */
    private static final class Setting {
        final Object value;
        final String source;
        final int precedence;

        Setting(Object value, String source, int precedence) {
            this.value = value;
            this.source = source;
            this.precedence = precedence;
        }
    }

    /**
     * Builds a {@link DwcpConfig}. Not thread-safe. Sources may be added in any order: precedence is by kind
     * (file &lt; system properties / environment &lt; builder calls), not by call order. Parse errors are collected
     * and reported by {@link #build()} together with every other violation.
     */
    public static final class Builder {
        private static final int FILE = 1;
        private static final int SYSTEM = 2;
        private static final int EXPLICIT = 3;

        private final Map<ConfigKey<?>, Setting> entries = new LinkedHashMap<>();
        private final List<String> problems = new ArrayList<>();

        private Builder() {
        }

        /**
         * Sets a typed value; the highest precedence.
         *
         * @param key the key
         * @param value the value
         * @param <T> the type of the value
         * @return this builder
         */
        public <T> Builder set(ConfigKey<T> key, T value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            entries.put(key, new Setting(key.cast(value), "builder", EXPLICIT));
            return this;
        }

        /**
         * Sets a value from its text form ({@code "dwcp.transport.chunk-size", "256KiB"}); the highest precedence.
         *
         * @param key the key's name
         * @param text the value's text form
         * @return this builder
         */
        public Builder set(String key, String text) {
            put(key, text, "builder", EXPLICIT);
            return this;
        }

        /**
         * Pins the tier of every peer ({@code dwcp.tier.pin}).
         *
         * @param tier the tier
         * @return this builder
         */
        public Builder tier(Tier tier) {
            return set(CoreKeys.TIER_PIN, tier.word());
        }

        /**
         * Reads every {@code dwcp.*} entry of {@code properties} as file-level settings named {@code sourceName}.
         *
         * @param properties the properties
         * @param sourceName the name shown as their source
         * @return this builder
         */
        public Builder properties(Properties properties, String sourceName) {
            for (String name : properties.stringPropertyNames()) {
                if (name.startsWith("dwcp.")) {
                    put(name, properties.getProperty(name), sourceName, FILE);
                }
            }
            return this;
        }

        /**
         * Reads a configuration file: {@code .properties}, or {@code .yaml}/{@code .yml} with nested maps of scalars
         * ({@code dwcp: transport: max-streams: 32}). Flow collections and multi-line scalars are not supported and
         * are reported as errors.
         *
         * @param path a {@code .properties}, {@code .yaml} or {@code .yml} file
         * @return this builder
         * @throws DwcpException {@code INVALID_CONFIG} when the file cannot be read
         */
        public Builder file(Path path) {
            String source = path.toString();
            try {
                String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
                if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                    Map<String, String> flat = SimpleYaml.flatten(Files.readString(path, StandardCharsets.UTF_8), problems, source);
                    flat.forEach((k, v) -> put(k, v, source, FILE));
                } else {
                    Properties p = new Properties();
                    try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                        p.load(r);
                    } catch (IllegalArgumentException e) {
                        // Properties.load refuses a malformed backslash-u escape this way; it is the file's error.
                        problems.add(source + ": " + e.getMessage() + " (a \\u escape needs four hexadecimal digits)");
                        return this;
                    }
                    for (String key : p.stringPropertyNames()) {
                        put(key, p.getProperty(key), source, FILE);
                    }
                }
            } catch (IOException e) {
                throw new DwcpException(ErrorCode.INVALID_CONFIG, "cannot read configuration file " + path + ": " + e, e);
            }
            return this;
        }

        /**
         * Reads {@code dwcp.*} system properties.
         *
         * @return this builder
         */
        public Builder systemProperties() {
            Properties p = System.getProperties();
            for (String name : p.stringPropertyNames()) {
                if (name.startsWith("dwcp.")) {
                    put(name, p.getProperty(name), "system property " + name, SYSTEM);
                }
            }
            return this;
        }

        /**
         * Reads {@code DWCP_*} variables: {@code DWCP_TRANSPORT_MAX_STREAMS} is {@code dwcp.transport.max-streams}
         * (upper case, {@code .} and {@code -} both written {@code _}).
         *
         * @param env the variables, e.g. {@code System.getenv()}
         * @return this builder
         */
        public Builder environment(Map<String, String> env) {
            Map<String, String> byEnvName = new HashMap<>();
            for (ConfigKey<?> k : ConfigSchema.keys()) {
                byEnvName.put(k.name().toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'), k.name());
            }
            for (Map.Entry<String, String> e : env.entrySet()) {
                if (!e.getKey().startsWith("DWCP_")) {
                    continue;
                }
                String key = byEnvName.get(e.getKey());
                if (key == null) {
                    problems.add("environment variable " + e.getKey() + " names no configuration key");
                } else {
                    put(key, e.getValue(), "environment " + e.getKey(), SYSTEM);
                }
            }
            return this;
        }

        private void put(String name, String text, String source, int precedence) {
            ConfigKey<?> key = ConfigSchema.key(name);
            if (key == null) {
                problems.add(name + " (from " + source + ") is not a configuration key: did you mean "
                        + ConfigSchema.nearest(name) + "?");
                return;
            }
            Setting existing = entries.get(key);
            if (existing != null && existing.precedence > precedence) {
                return;
            }
            try {
                entries.put(key, new Setting(key.type().parse(text), source, precedence));
            } catch (RuntimeException e) {
                problems.add(name + " = " + text + " (from " + source + "): " + e.getMessage() + "; expected " + key.allowed());
            }
        }

        /**
         * Validates every key once and builds. The builder stays usable.
         *
         * @return the configuration
         * @throws DwcpException {@code INVALID_CONFIG} listing every violation, one per line
         */
        public DwcpConfig build() {
            List<String> violations = new ArrayList<>(problems);
            for (Map.Entry<ConfigKey<?>, Setting> e : entries.entrySet()) {
                String problem = check(e.getKey(), e.getValue().value);
                if (problem != null) {
                    violations.add(e.getKey().name() + " = " + format(e.getKey(), e.getValue().value) + " (from "
                            + e.getValue().source + "): " + problem);
                }
            }
            DwcpConfig config = new DwcpConfig(entries);
            if (violations.isEmpty()) {
                for (Tier tier : Tier.values()) {
                    for (String v : ConfigSchema.crossKeyViolations(k -> config.get(k, tier), tier)) {
                        if (!violations.contains(v)) {
                            violations.add(v);
                        }
                    }
                }
            }
            if (!violations.isEmpty()) {
                throw new DwcpException(ErrorCode.INVALID_CONFIG, violations.size() + " configuration problem"
                        + (violations.size() == 1 ? "" : "s") + ":\n  " + String.join("\n  ", violations));
            }
            return config;
        }

        private static <T> String check(ConfigKey<T> key, Object value) {
            return key.check(key.cast(value));
        }

        private static <T> String format(ConfigKey<T> key, Object value) {
            return key.secret() ? "<redacted>" : key.type().format(key.cast(value));
        }
    }
}
